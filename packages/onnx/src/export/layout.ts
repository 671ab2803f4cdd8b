// Keras tensors are NHWC; inside the exported graph every rank-4 value is NCHW (the layout ONNX
// Runtime's convolution kernels expect), so shapes and axes are translated here and nowhere else.
import type { OnnxGraph, Value } from './onnx-graph.ts';

export const NHWC_TO_NCHW = [0, 3, 1, 2];
export const NCHW_TO_NHWC = [0, 2, 3, 1];

/** The ONNX axis of a (possibly negative) Keras axis. */
export function onnxAxis(kerasAxis: number, rank: number): number {
  const a = kerasAxis < 0 ? kerasAxis + rank : kerasAxis;
  return rank === 4 ? [0, 2, 3, 1][a] : a;
}

/** The value laid out as Keras would (a Transpose for rank 4, itself otherwise). */
export function toChannelsLast(graph: OnnxGraph, v: Value, base: string): string {
  return v.shape.length === 4 ? graph.add('Transpose', [v.name], { perm: { ints: NCHW_TO_NHWC } }, `${base}/nhwc`) : v.name;
}

/** The inverse of toChannelsLast for a value computed in Keras layout. */
export function fromChannelsLast(graph: OnnxGraph, name: string, kerasShape: (number | null)[], base: string): string {
  return kerasShape.length === 4 ? graph.add('Transpose', [name], { perm: { ints: NHWC_TO_NCHW } }, `${base}/nchw`) : name;
}

/** A 4-D row-major array with its axes permuted: result axis k is source axis perm[k]. */
export function transpose4d(data: Float32Array, shape: number[], perm: number[]): Float32Array {
  // drop unit axes and merge axes that stay neighbours in order: kernel layouts mostly reduce to one 2-D transpose
  const groups: number[][] = [];
  for (const p of perm.filter((q) => shape[q] !== 1)) {
    const last = groups.at(-1)?.at(-1);
    const adjacent = last !== undefined && p > last && shape.slice(last + 1, p).every((d) => d === 1);
    if (adjacent) groups.at(-1)!.push(p);
    else groups.push([p]);
  }
  const sourceOrder = [...groups].sort((a, b) => a[0] - b[0]);
  if (groups.every((grp, k) => grp === sourceOrder[k])) return Float32Array.from(data);
  if (groups.length === 2) {
    const size = (grp: number[]) => grp.reduce((n, p) => n * shape[p], 1);
    return transpose2d(data, size(sourceOrder[0]), size(sourceOrder[1]));
  }
  const out = new Float32Array(data.length);
  const strides = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1];
  const [d0, d1, d2, d3] = perm.map((p) => shape[p]);
  const [s0, s1, s2, s3] = perm.map((p) => strides[p]);
  let k = 0;
  for (let a = 0; a < d0; a++)
    for (let b = 0; b < d1; b++)
      for (let c = 0; c < d2; c++) for (let d = 0; d < d3; d++) out[k++] = data[a * s0 + b * s1 + c * s2 + d * s3];
  return out;
}

/** [rows, cols] -> [cols, rows], in cache-sized tiles. */
function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  const T = 32;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(rows, r0 + T);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(cols, c0 + T);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = data[r * cols + c];
    }
  }
  return out;
}

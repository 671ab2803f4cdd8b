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

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

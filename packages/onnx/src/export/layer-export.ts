// What a per-family layer exporter receives and how it refuses a layer it cannot map.
import type { OnnxGraph, Value } from './onnx-graph.ts';

export interface LayerExport {
  graph: OnnxGraph;
  /** Keras layer name, the base of the ONNX names this layer emits */
  name: string;
  className: string;
  config: Record<string, unknown>;
  /** the layer's weights with the names of the tf.js variables holding them */
  weights: LayerWeight[];
  inputs: Value[];
  /** Keras (channels-last) shapes of this layer application's outputs */
  outputShapes: (number | null)[][];
}

export interface LayerWeight {
  shape: number[];
  data: Float32Array;
  variable: string;
}

/** Emits the layer's ONNX nodes and returns one Value per Keras output. */
export type LayerExporter = (l: LayerExport) => Value[];

/** The model holds a layer (or a layer setting) with no ONNX mapping here; callers fall back to TF.js. */
export class UnsupportedLayerError extends Error {
  readonly code = 'unsupported_layer';
  constructor(
    readonly layerName: string,
    readonly className: string,
    reason: string,
  ) {
    super(`cannot export layer "${layerName}" (${className}) to ONNX: ${reason}`);
    this.name = 'UnsupportedLayerError';
  }
}

export function refuse(l: LayerExport, reason: string): never {
  throw new UnsupportedLayerError(l.name, l.className, reason);
}

/** Reads a config entry that must be a list of numbers (kernel sizes, strides, padding). */
export function ints(l: LayerExport, key: string, fallback?: number[]): number[] {
  const v = l.config[key] ?? fallback;
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v as number[];
  return refuse(l, `unexpected ${key}: ${JSON.stringify(v)}`);
}

export function requireChannelsLast(l: LayerExport): void {
  const f = l.config.dataFormat;
  if (f !== undefined && f !== 'channelsLast') refuse(l, `dataFormat ${String(f)} (only channelsLast is exported)`);
}

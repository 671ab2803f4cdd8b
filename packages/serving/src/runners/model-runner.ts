// A runner turns a batch of preprocessed images into class probabilities. TF.js is the baseline; an
// ONNX Runtime runner can be tried first for the same checkpoint (when it carries model.onnx) and
// the pool does not care which one answers.
import type { ModelJson } from '../checkpoint-files.ts';
import type { ServedMetadata } from '../served-metadata.ts';

export interface RunnerSource {
  modelJson: ModelJson;
  weightData: ArrayBuffer;
  metadata: ServedMetadata;
  /** the checkpoint's model.onnx when the exporter wrote one */
  onnx?: Uint8Array;
}

export interface ModelRunner {
  readonly name: string;
  /** input: n images, HWC float32 each, concatenated; returns n × classes probabilities */
  run(input: Float32Array, n: number): Promise<Float32Array>;
  dispose(): void;
}

/** Returns null when it cannot serve this checkpoint, so the next factory is tried. */
export type RunnerFactory = (source: RunnerSource) => Promise<ModelRunner | null>;

// A runner turns a batch of preprocessed images into class probabilities. The checkpoint's TF.js
// model is always loaded; ONNX Runtime takes over when it is available and the model exports (or the
// checkpoint already carries model.onnx); otherwise TF.js answers. Callers never see which.
import type { ModelJson } from '../checkpoint-files.ts';
import type { ServedMetadata } from '../served-metadata.ts';
import { onnxRunner } from './onnx-runner.ts';
import { loadTfjsModel, tfjsRunner } from './tfjs-runner.ts';

export interface RunnerSource {
  modelJson: ModelJson;
  weightData: ArrayBuffer;
  metadata: ServedMetadata;
  /** the checkpoint's model.onnx when the worker exported one */
  onnx?: Uint8Array;
}

export interface ModelRunner {
  /** 'onnx' or 'tfjs' */
  readonly name: string;
  /** input: n images, HWC float32 each, concatenated; returns n × classes probabilities */
  run(input: Float32Array, n: number): Promise<Float32Array>;
  /** settles once the runtime has freed the model (ONNX Runtime releases its session asynchronously) */
  dispose(): Promise<void>;
}

export interface RunnerOptions {
  /** try ONNX Runtime first (default true; GRAFT_ONNX=off also turns it off) */
  onnx: boolean;
  /** intra-op threads ONNX Runtime may use for this model */
  onnxThreads: number;
}

export async function createRunner(source: RunnerSource, opts: RunnerOptions): Promise<ModelRunner> {
  const model = await loadTfjsModel(source);
  const native = opts.onnx ? await onnxRunner(source, model, opts.onnxThreads) : null;
  if (native) {
    model.dispose();
    return native;
  }
  return tfjsRunner(model, source.metadata.preprocessing.imageSize);
}

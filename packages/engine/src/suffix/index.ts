// Picks the runtime of the trainable suffix: ONNX Runtime when it loads and every layer and op of the suffix
// has an export and a gradient rule, else TF.js; the log says which.
import type * as tf from '@tensorflow/tfjs';
import { OnnxSuffixRunner } from '@graft/onnx';
import type { SuffixRunner } from './suffix-runner.ts';
import { tfjsSuffixRunner } from './tfjs-suffix-runner.ts';

export type { Gradients, SuffixPass, SuffixRunner } from './suffix-runner.ts';
export { tfjsSuffixRunner } from './tfjs-suffix-runner.ts';

interface Logger {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
}

/** `onnx: false` keeps the suffix on TF.js (a GPU backend's kernels: see runtime/heavy-passes.ts). */
export async function createSuffixRunner(suffix: tf.LayersModel, logger?: Logger, opts: { onnx?: boolean } = {}): Promise<SuffixRunner> {
  // a frozen backbone's suffix is the identity over the pooled features: nothing to run natively
  if (suffix.trainableWeights.length > 0 && opts.onnx !== false) {
    const onnx = await OnnxSuffixRunner.create(suffix, { logger });
    if (onnx) {
      logger?.info({ path: 'onnxruntime', weights: onnx.trainableWeights.length }, 'the trainable suffix runs forward and backward on ONNX Runtime');
      return onnx;
    }
  }
  logger?.info({ path: 'tfjs', weights: suffix.trainableWeights.length }, 'the trainable suffix runs on TF.js');
  return tfjsSuffixRunner(suffix);
}

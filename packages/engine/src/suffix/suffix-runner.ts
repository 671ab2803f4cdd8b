// The trainable backbone suffix as the methods use it: cached prefix activations [n, h, w, c] (or images when
// the whole network trains) -> pooled features [n, d], for inference and for training steps. Two runtimes:
// ONNX Runtime with a hand-built backward graph (@graft/onnx), or TF.js (always available). Either way the
// weights live in the suffix's tf.js variables: the optimiser updates those, the served model is built from them.
import type * as tf from '@tensorflow/tfjs';

/** A gradient per tf.Variable name: a tensor (TF.js), or the values ONNX Runtime returned (no copy into TF.js). */
export type Gradients = Record<string, tf.Tensor | Float32Array>;

/** One training forward pass; the caller keeps its input alive until backward() resolves, then disposes the pass. */
export interface SuffixPass {
  features: tf.Tensor2D;
  /** d(loss)/d(features) -> d(loss)/d(weight) for every trainable weight */
  backward(dFeatures: tf.Tensor2D): Promise<Gradients>;
  dispose(): void;
}

export interface SuffixRunner {
  /** inference mode (BatchNorm on its moving statistics), no gradient */
  predict(x: tf.Tensor): Promise<tf.Tensor2D>;
  /**
   * The same features, with a backward pass (BatchNorm stays in inference mode: small data fine-tuning). With
   * `weights` (by variable name), a runner that readsGivenWeights runs on those values instead of the variables':
   * the optimiser's own copy, ahead of the variables between its writes.
   */
  forward(x: tf.Tensor, weights?: ReadonlyMap<string, Float32Array>): Promise<SuffixPass>;
  readonly readsGivenWeights?: boolean;
  /** the suffix's trainable weights (the optimiser's backbone group) */
  readonly trainableWeights: tf.LayerVariable[];
  dispose(): void | Promise<void>;
}

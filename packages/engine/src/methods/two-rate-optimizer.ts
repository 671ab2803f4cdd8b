// Adam for the new heads at the full learning rate and for the pretrained backbone blocks at a tenth of it:
// the heads start from random weights, the blocks from good ones that large steps would wreck.
// A step runs the suffix forward on its runtime (ONNX Runtime or TF.js), lets TF.js differentiate the loss
// with respect to the heads' weights and the features, and sends d(loss)/d(features) back through the suffix.
import * as tf from '@tensorflow/tfjs';
import type { SuffixRunner } from '../suffix/index.ts';

/** A method's loss over a batch's pooled features; extra scalars (accuracy…) are returned with it. */
export type FeatureLoss = (features: tf.Tensor2D) => { loss: tf.Scalar; metrics?: Record<string, tf.Scalar> };

export class TwoRateOptimizer {
  private readonly backbone: tf.Optimizer;
  private readonly head: tf.Optimizer;
  private readonly headVars: tf.Variable[];

  constructor(
    private readonly suffix: SuffixRunner,
    headWeights: tf.LayerVariable[],
    learningRate: number,
  ) {
    this.backbone = tf.train.adam(learningRate / 10);
    this.head = tf.train.adam(learningRate);
    this.headVars = headWeights.map((w) => w.read() as tf.Variable);
  }

  /** One step on the loss of the features of `x`; returns the loss and f's metrics, which the caller disposes. */
  async minimize(x: tf.Tensor, f: FeatureLoss): Promise<Record<string, tf.Scalar>> {
    const pass = await this.suffix.forward(x);
    try {
      // the features as a variable: variableGrads then also returns d(loss)/d(features)
      const features = tf.variable(pass.features);
      const kept: Record<string, tf.Scalar> = {};
      let step: { value: tf.Scalar; grads: tf.NamedTensorMap };
      try {
        step = tf.variableGrads(() => {
          const r = f(features as tf.Variable<tf.Rank.R2>);
          for (const [k, t] of Object.entries(r.metrics ?? {})) kept[k] = tf.keep(t);
          return r.loss;
        }, [...this.headVars, features]);
      } finally {
        features.dispose();
      }
      const { [features.name]: dFeatures, ...headGrads } = step.grads;
      this.head.applyGradients(headGrads);
      tf.dispose(headGrads);
      try {
        if (this.suffix.trainableWeights.length) {
          const suffixGrads = await pass.backward(dFeatures as tf.Tensor2D);
          this.backbone.applyGradients(suffixGrads);
          tf.dispose(suffixGrads);
        }
      } finally {
        dFeatures.dispose();
      }
      return { loss: step.value, ...kept };
    } finally {
      pass.dispose();
    }
  }

  dispose(): void {
    this.backbone.dispose();
    this.head.dispose();
  }
}

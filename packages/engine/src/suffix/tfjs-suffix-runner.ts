// The TF.js suffix runner: the fallback for suffixes ONNX Runtime cannot train (layers or ops without a rule,
// runtime missing or switched off). The backward pass recomputes the forward inside a gradient tape: the VJP
// of sum(features · dFeatures) with respect to the weights.
import * as tf from '@tensorflow/tfjs';
import type { SuffixPass, SuffixRunner } from './suffix-runner.ts';

export function tfjsSuffixRunner(suffix: tf.LayersModel): SuffixRunner {
  const features = (x: tf.Tensor) => tf.tidy(() => suffix.apply(x, { training: false }) as tf.Tensor2D);
  return {
    trainableWeights: suffix.trainableWeights,
    predict: async (x) => features(x),
    async forward(x): Promise<SuffixPass> {
      const f = features(x);
      return {
        features: f,
        async backward(dFeatures) {
          const vars = suffix.trainableWeights.map((w) => w.read() as tf.Variable);
          if (!vars.length) return {};
          const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(suffix.apply(x, { training: false }) as tf.Tensor, dFeatures)) as tf.Scalar, vars);
          value.dispose();
          return grads;
        },
        dispose: () => f.dispose(),
      };
    },
    dispose() {},
  };
}

// Linear SVM's loss, one-vs-rest with the squared hinge (liblinear's / LinearSVC's default): for each class c,
// t = ±1 and loss = Σ_c max(0, 1 − t·s_c)²; differentiable, so L-BFGS fits it like the logistic loss.
import * as tf from '@tensorflow/tfjs';
import type { LinearLoss } from './linear-classifier.ts';

export const squaredHingeLoss: LinearLoss = (scores, oneHot) => {
  const n = scores.shape[0];
  const t = oneHot.mul(2).sub(1);
  const margin = tf.relu(tf.sub(1, t.mul(scores)));
  return {
    loss: tf.sum(margin.square()).div(n) as tf.Scalar,
    dScores: t.mul(margin).mul(-2 / n) as tf.Tensor2D,
  };
};

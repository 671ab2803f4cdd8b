// Multinomial logistic regression's loss: mean softmax cross-entropy; d/dscores = (softmax − onehot)/n.
import * as tf from '@tensorflow/tfjs';
import type { LinearLoss } from './linear-classifier.ts';

export const logisticLoss: LinearLoss = (scores, oneHot) => {
  const n = scores.shape[0];
  const logp = tf.logSoftmax(scores);
  return {
    loss: tf.neg(tf.sum(oneHot.mul(logp))).div(n) as tf.Scalar,
    dScores: tf.exp(logp).sub(oneHot).div(n) as tf.Tensor2D,
  };
};

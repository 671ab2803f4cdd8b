// DANN's gradient reversal layer: identity forward, -λ·dy backward, so the features learn to fool the domain
// discriminator while the discriminator itself learns to separate the domains.
import * as tf from '@tensorflow/tfjs';

export function reverseGradient(x: tf.Tensor, lambda: number): tf.Tensor {
  const f = tf.customGrad((...inputs) => ({
    value: (inputs[0] as tf.Tensor).clone(),
    gradFunc: (dy: tf.Tensor) => dy.mul(-lambda),
  }));
  return f(x);
}

/** Ganin & Lempitsky's schedule: λ_p = max·(2/(1+e^(−10p)) − 1), p = training progress in [0, 1]. */
export function rampedLambda(progress: number, max: number): number {
  return max * (2 / (1 + Math.exp(-10 * progress)) - 1);
}

// A linear model scores = X·W + b with an L2 penalty, fitted to convergence by L-BFGS on standardised features.
// The loss (logistic, squared hinge) is pluggable; the heavy products run as tf matMuls, the optimiser in JS.
import * as tf from '@tensorflow/tfjs';
import { minimizeLbfgs } from './lbfgs.ts';

/** Mean loss over the rows and its gradient with respect to the scores. */
export type LinearLoss = (scores: tf.Tensor2D, oneHot: tf.Tensor2D) => { loss: tf.Scalar; dScores: tf.Tensor2D };

export interface LinearFit {
  /** [d x k] row-major */
  kernel: Float32Array;
  bias: Float32Array;
  loss: number;
  iterations: number;
  converged: boolean;
}

export interface LinearFitOptions {
  /** inverse regularisation strength, scikit-learn's C: objective = C·Σ loss_i + ½‖W‖² (scaled by 1/(C·n)) */
  C: number;
  maxIterations: number;
  gradientTolerance: number;
  onIteration?(iteration: number, loss: number): void | Promise<void>;
}

/** Fit W, b on x [n x d] (already standardised) with integer labels y in [0, k). */
export async function fitLinear(
  x: Float32Array,
  y: Int32Array,
  d: number,
  k: number,
  lossFn: LinearLoss,
  o: LinearFitOptions,
): Promise<LinearFit> {
  const n = y.length;
  const alpha = 1 / (o.C * n);
  const X = tf.tensor2d(x, [n, d]);
  const Y = tf.tidy(() => tf.oneHot(tf.tensor1d(y, 'int32'), k).toFloat() as tf.Tensor2D);
  try {
    const fg = (w: Float64Array) => {
      let out = { f: 0, g: new Float64Array(0) };
      tf.tidy(() => {
        const W = tf.tensor2d(Float32Array.from(w.subarray(0, d * k)), [d, k]);
        const b = tf.tensor1d(Float32Array.from(w.subarray(d * k)));
        const { loss, dScores } = lossFn(X.matMul(W).add(b) as tf.Tensor2D, Y);
        const f = loss.add(tf.sum(W.square()).mul(alpha / 2));
        const dW = X.transpose().matMul(dScores).add(W.mul(alpha));
        const db = dScores.sum(0);
        const g = new Float64Array(d * k + k);
        g.set(dW.dataSync());
        g.set(db.dataSync(), d * k);
        out = { f: f.dataSync()[0], g };
      });
      return out;
    };
    const r = await minimizeLbfgs(fg, new Float64Array(d * k + k), {
      maxIterations: o.maxIterations,
      gradientTolerance: o.gradientTolerance,
      onIteration: o.onIteration,
    });
    return {
      kernel: Float32Array.from(r.w.subarray(0, d * k)),
      bias: Float32Array.from(r.w.subarray(d * k)),
      loss: r.f,
      iterations: r.iterations,
      converged: r.converged,
    };
  } finally {
    X.dispose();
    Y.dispose();
  }
}

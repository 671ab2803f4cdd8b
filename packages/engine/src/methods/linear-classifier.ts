// A linear model scores = X·W + b with an L2 penalty, fitted to convergence by L-BFGS on standardised features.
// The loss (logistic, squared hinge) is pluggable and runs in JS on the n × k scores in float64, so the line
// search sees real decreases; the two products with X per iteration (X·d for the ray, Xᵀ·dS for the gradient)
// run on ONNX Runtime when it loads, else as TF.js matMuls. One problem serves several fits (the C path),
// each optionally warm-started from another fit.
import * as tf from '@tensorflow/tfjs';
import { createMatrixProducts, type MatrixProducts } from '@graft/onnx';
import { minimizeLbfgs, type Ray, type RayObjective } from './lbfgs.ts';

/** Mean loss over the rows of scores [n × k] (row-major) with labels y, and its gradient with respect to the scores. */
export interface LinearLoss {
  value(scores: Float64Array, y: Int32Array, k: number): number;
  gradient(scores: Float64Array, y: Int32Array, k: number): Float32Array;
}

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
  /** start from this fit's weights instead of zero (a neighbouring C's solution is close to this one's) */
  warmStart?: LinearFit;
  onIteration?(iteration: number, loss: number): void | Promise<void>;
}

export interface LinearProblem {
  fit(o: LinearFitOptions): Promise<LinearFit>;
  /** the mean loss of a fit (of any problem with these features) on this problem's rows, without the penalty */
  meanLoss(fit: LinearFit): Promise<number>;
  dispose(): Promise<void>;
}

/** The same products as TF.js matMuls, for when ONNX Runtime is not there. */
function tfMatrixProducts(x: Float32Array, n: number, d: number): MatrixProducts {
  const X = tf.tensor2d(x, [n, d]);
  const Xt = tf.tidy(() => X.transpose());
  const product = (a: tf.Tensor2D, b: Float32Array, rows: number, k: number) => {
    const out = tf.tidy(() => a.matMul(tf.tensor2d(b, [rows, k])));
    try {
      return out.data() as Promise<Float32Array>;
    } finally {
      out.dispose();
    }
  };
  return {
    times: (w, k) => product(X, w, d, k),
    transposeTimes: (g, k) => product(Xt as tf.Tensor2D, g, n, k),
    async dispose() {
      X.dispose();
      Xt.dispose();
    },
  };
}

/** The fitting problem for x [n x d] (already standardised) and integer labels y in [0, k). */
export async function linearProblem(x: Float32Array, y: Int32Array, d: number, k: number, loss: LinearLoss): Promise<LinearProblem> {
  const n = y.length;
  const products = (await createMatrixProducts(x, n, d)) ?? tfMatrixProducts(x, n, d);
  const dk = d * k;
  const kernelOf = (w: Float64Array) => Float32Array.from(w.subarray(0, dk));
  /** X·W + b */
  const scoresFor = async (kernel: Float32Array, bias: ArrayLike<number>) => {
    const xw = await products.times(kernel, k);
    const s = new Float64Array(n * k);
    for (let i = 0; i < s.length; i++) s[i] = xw[i] + bias[i % k];
    return s;
  };
  /** X·W + b for the parameter vector w = [W row-major, b] */
  const scoresOf = (w: Float64Array) => scoresFor(kernelOf(w), w.subarray(dk));

  const objective = (alpha: number): RayObjective => {
    let scores: Float64Array = new Float64Array(0);
    const sumSquares = (a: Float64Array, b: Float64Array) => {
      let s = 0;
      for (let j = 0; j < dk; j++) s += a[j] * b[j];
      return s;
    };
    /** ∇ at scores s and weights w: (Xᵀ·dS + αW, Σ_rows dS) */
    const gradientAt = async (s: Float64Array, w: Float64Array) => {
      const dS = loss.gradient(s, y, k);
      const g = new Float64Array(dk + k);
      const xtd = await products.transposeTimes(dS, k);
      for (let j = 0; j < dk; j++) g[j] = xtd[j] + alpha * w[j];
      for (let i = 0; i < dS.length; i++) g[dk + (i % k)] += dS[i];
      return g;
    };
    return {
      async start(w) {
        scores = await scoresOf(w);
        return { f: loss.value(scores, y, k) + (alpha / 2) * sumSquares(w, w), g: await gradientAt(scores, w) };
      },
      async ray(w, dir): Promise<Ray> {
        const along = await scoresOf(dir);
        const [ww, wd, dd] = [sumSquares(w, w), sumSquares(w, dir), sumSquares(dir, dir)];
        const trial = new Float64Array(scores.length);
        const at = (t: number, out: Float64Array) => {
          for (let i = 0; i < out.length; i++) out[i] = scores[i] + t * along[i];
          return out;
        };
        return {
          value: (t) => loss.value(at(t, trial), y, k) + (alpha / 2) * (ww + 2 * t * wd + t * t * dd),
          async gradient(t) {
            scores = at(t, new Float64Array(scores.length));
            const moved = new Float64Array(dk);
            for (let j = 0; j < dk; j++) moved[j] = w[j] + t * dir[j];
            return gradientAt(scores, moved);
          },
        };
      },
    };
  };

  return {
    async fit(o) {
      const w0 = new Float64Array(dk + k);
      if (o.warmStart) {
        w0.set(o.warmStart.kernel);
        w0.set(o.warmStart.bias, dk);
      }
      const r = await minimizeLbfgs(objective(1 / (o.C * n)), w0, {
        maxIterations: o.maxIterations,
        gradientTolerance: o.gradientTolerance,
        onIteration: o.onIteration,
      });
      return {
        kernel: kernelOf(r.w),
        bias: Float32Array.from(r.w.subarray(dk)),
        loss: r.f,
        iterations: r.iterations,
        converged: r.converged,
      };
    },
    meanLoss: async (fit) => loss.value(await scoresFor(fit.kernel, fit.bias), y, k),
    dispose: () => products.dispose(),
  };
}

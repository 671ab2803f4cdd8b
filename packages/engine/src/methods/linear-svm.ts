// Linear SVM's loss, one-vs-rest with the squared hinge (liblinear's / LinearSVC's default): for each class c,
// t = ±1 and loss = Σ_c max(0, 1 − t·s_c)²; differentiable, so L-BFGS fits it like the logistic loss.
import type { LinearLoss } from './linear-classifier.ts';

export const squaredHingeLoss: LinearLoss = {
  value(scores, y, k) {
    let total = 0;
    for (let i = 0, o = 0; i < y.length; i++, o += k) {
      for (let c = 0; c < k; c++) {
        const margin = 1 - (c === y[i] ? 1 : -1) * scores[o + c];
        if (margin > 0) total += margin * margin;
      }
    }
    return total / y.length;
  },
  gradient(scores, y, k) {
    const n = y.length;
    const out = new Float32Array(n * k);
    for (let i = 0, o = 0; i < n; i++, o += k) {
      for (let c = 0; c < k; c++) {
        const t = c === y[i] ? 1 : -1;
        const margin = 1 - t * scores[o + c];
        if (margin > 0) out[o + c] = (-2 * t * margin) / n;
      }
    }
    return out;
  },
};

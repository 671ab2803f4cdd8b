// Multinomial logistic regression's loss: mean softmax cross-entropy; d/dscores = (softmax − onehot)/n.
import type { LinearLoss } from './linear-classifier.ts';

export const logisticLoss: LinearLoss = {
  value(scores, y, k) {
    const n = y.length;
    let total = 0;
    for (let i = 0, o = 0; i < n; i++, o += k) {
      let max = -Infinity;
      for (let c = 0; c < k; c++) max = Math.max(max, scores[o + c]);
      let sum = 0;
      for (let c = 0; c < k; c++) sum += Math.exp(scores[o + c] - max);
      total += max + Math.log(sum) - scores[o + y[i]];
    }
    return total / n;
  },
  gradient(scores, y, k) {
    const n = y.length;
    const out = new Float32Array(n * k);
    for (let i = 0, o = 0; i < n; i++, o += k) {
      let max = -Infinity;
      for (let c = 0; c < k; c++) max = Math.max(max, scores[o + c]);
      let sum = 0;
      for (let c = 0; c < k; c++) sum += Math.exp(scores[o + c] - max);
      for (let c = 0; c < k; c++) out[o + c] = (Math.exp(scores[o + c] - max) / sum - (c === y[i] ? 1 : 0)) / n;
    }
    return out;
  },
};

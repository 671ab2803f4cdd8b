// Classification metrics over predicted probabilities: what the job's metrics page and the benches report.
import type { ClassMetrics, Evaluation } from '@graft/spec';

/** Row-major confusion matrix: matrix[true][predicted]. */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numClasses: number): number[][] {
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < yTrue.length; i++) m[yTrue[i]][yPred[i]]++;
  return m;
}

export function accuracy(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  if (yTrue.length === 0) return 0;
  let hit = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hit++;
  return hit / yTrue.length;
}

/** Per-class precision/recall/F1/support; an undefined ratio (0/0) counts as 0, as scikit-learn does. */
export function perClassMetrics(matrix: number[][], labels: string[]): ClassMetrics[] {
  return labels.map((label, c) => {
    const tp = matrix[c][c];
    const support = matrix[c].reduce((a, b) => a + b, 0);
    const predicted = matrix.reduce((a, row) => a + row[c], 0);
    const precision = predicted === 0 ? 0 : tp / predicted;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { label, precision, recall, f1, support };
  });
}

/** Unweighted mean F1 over the classes that occur in the truth or the predictions. */
export function macroF1(perClass: ClassMetrics[], matrix: number[][]): number {
  const present = perClass.filter((m, c) => m.support > 0 || matrix.some((row) => row[c] > 0));
  return present.length === 0 ? 0 : present.reduce((a, m) => a + m.f1, 0) / present.length;
}

/** Fraction of rows whose true class is among the k highest probabilities. probs is [n x numClasses] row-major. */
export function topKAccuracy(probs: Float32Array, yTrue: ArrayLike<number>, numClasses: number, k: number): number {
  const n = yTrue.length;
  if (n === 0) return 0;
  let hit = 0;
  for (let i = 0; i < n; i++) {
    const row = probs.subarray(i * numClasses, (i + 1) * numClasses);
    const p = row[yTrue[i]];
    // rank = number of classes strictly more probable; ties resolve in the true class' favour
    let higher = 0;
    for (let c = 0; c < numClasses; c++) if (row[c] > p) higher++;
    if (higher < k) hit++;
  }
  return hit / n;
}

export function argmaxRows(probs: Float32Array, numClasses: number): Int32Array {
  const n = probs.length / numClasses;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (probs[i * numClasses + c] > probs[i * numClasses + best]) best = c;
    out[i] = best;
  }
  return out;
}

/** The full evaluation stored with a job: accuracy, macro-F1, per-class scores, confusion matrix, top-1/3/5. */
export function evaluate(probs: Float32Array, yTrue: ArrayLike<number>, labels: string[], split: string): Evaluation {
  const k = labels.length;
  const yPred = argmaxRows(probs, k);
  const matrix = confusionMatrix(yTrue, yPred, k);
  const perClass = perClassMetrics(matrix, labels);
  const topK: Record<string, number> = {};
  for (const kk of [1, 3, 5]) if (kk === 1 || kk < k) topK[String(kk)] = topKAccuracy(probs, yTrue, k, kk);
  return {
    split,
    accuracy: accuracy(yTrue, yPred),
    macroF1: macroF1(perClass, matrix),
    perClass,
    confusionMatrix: { labels: [...labels], matrix },
    topK,
  };
}

// Holding out validation data: a stratified, seeded split of the labelled task data, so every class is
// represented in both parts and the same seed gives the same split.
import { permutation } from './seeded-random.ts';

/** Fewer labelled images than this and the data is too small to split: train on all, evaluate on train. */
export const MIN_IMAGES_TO_SPLIT = 10;

/**
 * Indices [train, validation] of `labels` (class index per item). Each class with at least 2 items gives
 * round(fraction·count) items to validation, at least 1, and keeps at least 1 for training.
 */
export function stratifiedSplit(labels: ArrayLike<number>, fraction: number, rand: () => number): { train: number[]; validation: number[] } {
  if (fraction <= 0 || labels.length < MIN_IMAGES_TO_SPLIT) return { train: Array.from(labels, (_, i) => i), validation: [] };
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const list = byClass.get(labels[i]) ?? [];
    list.push(i);
    byClass.set(labels[i], list);
  }
  const train: number[] = [];
  const validation: number[] = [];
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const items = byClass.get(c)!;
    const order = permutation(items.length, rand);
    const nVal = items.length < 2 ? 0 : Math.min(items.length - 1, Math.max(1, Math.round(fraction * items.length)));
    order.forEach((o, j) => (j < nVal ? validation : train).push(items[o]));
  }
  return { train: train.sort((a, b) => a - b), validation: validation.sort((a, b) => a - b) };
}

/**
 * Stratified k-fold: `folds` disjoint index lists covering every item, each class dealt round-robin over the
 * folds in a seeded order, so every fold holds about 1/folds of each class.
 */
export function stratifiedFolds(labels: ArrayLike<number>, folds: number, rand: () => number): number[][] {
  const out: number[][] = Array.from({ length: folds }, () => []);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    if (!byClass.has(labels[i])) byClass.set(labels[i], []);
    byClass.get(labels[i])!.push(i);
  }
  let next = 0;
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const items = byClass.get(c)!;
    // continuing the round-robin across classes keeps the fold sizes within one of each other
    for (const o of permutation(items.length, rand)) out[next++ % folds].push(items[o]);
  }
  return out.map((f) => f.sort((a, b) => a - b));
}

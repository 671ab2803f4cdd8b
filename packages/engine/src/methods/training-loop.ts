// The one epoch/batch loop every gradient-trained method runs: shuffled batches, cancellation checked before
// every batch, progress, per-epoch metrics, early stopping on validation loss with best-weights restore, and
// no tensors left behind (steps are async, so no tf.tidy across them: each step disposes what it creates and the
// loop disposes the metrics it reads; only the best-weights snapshot is kept).
import * as tf from '@tensorflow/tfjs';
import { GraftError, type EpochMetrics } from '@graft/spec';
import { permutation } from './seeded-random.ts';

/** Scalars a step reports; 'loss' and 'accuracy' become the epoch's loss/accuracy, the rest go to `extra`. */
export type StepMetrics = Record<string, tf.Scalar>;

export interface EpochValidation {
  valLoss: number | null;
  valAccuracy: number | null;
  extra?: Record<string, number | null>;
}

export interface StepResult {
  metrics: StepMetrics;
  batchSize: number;
}

export interface TrainingLoopOptions {
  epochs: number;
  /** Epochs without a validation-loss improvement before stopping; null turns early stopping off. */
  patience: number | null;
  stepsPerEpoch: number;
  /** Called before each epoch (e.g. to reshuffle). */
  beginEpoch?(epoch: number): void;
  /** One optimisation step; frees its own tensors and returns scalars (weighted by `batchSize`) to average, which the loop frees. */
  step(epoch: number, step: number, progress: number): StepResult | Promise<StepResult>;
  /** Validation after each epoch; valLoss null means nothing to monitor (no early stopping). */
  validate(): EpochValidation | Promise<EpochValidation>;
  /** The weights early stopping snapshots and restores. */
  weights: tf.LayerVariable[];
  /**
   * Validate the starting weights too, as epoch 0, which early stopping may return to: a head started as a
   * linear probe (LP-FT) is already a model, and training must beat it on the validation loss to replace it.
   */
  validateStart?: boolean;
  signal?: AbortSignal;
  onProgress?(fraction: number): void | Promise<void>;
  onEpoch?(m: EpochMetrics): void | Promise<void>;
}

export interface TrainingLoopResult {
  epochs: EpochMetrics[];
  /** 1-based epoch whose weights the model holds at the end (0: the starting weights, with validateStart) */
  bestEpoch: number;
  stoppedEarly: boolean;
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new GraftError('cancelled', 'The job was cancelled.');
}

/** Yield to the event loop so an abort (timer, Redis message) can land between batches. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function runTrainingLoop(o: TrainingLoopOptions): Promise<TrainingLoopResult> {
  const epochs: EpochMetrics[] = [];
  let best: { loss: number; epoch: number; weights: tf.Tensor[] } | null = null;
  let sinceBest = 0;
  let stoppedEarly = false;
  const totalSteps = o.epochs * o.stepsPerEpoch;
  try {
    if (o.validateStart && o.patience !== null) {
      const v = await o.validate();
      if (v.valLoss !== null && Number.isFinite(v.valLoss)) best = { loss: v.valLoss, epoch: 0, weights: o.weights.map((w) => tf.keep(w.read().clone())) };
    }
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      o.beginEpoch?.(epoch);
      const sums: Record<string, number> = {};
      let seen = 0;
      for (let s = 0; s < o.stepsPerEpoch; s++) {
        throwIfCancelled(o.signal);
        const done = (epoch - 1) * o.stepsPerEpoch + s;
        const values: Record<string, number> = {};
        const { metrics, batchSize } = await o.step(epoch, s, done / totalSteps);
        values.__n = batchSize;
        for (const [k, t] of Object.entries(metrics)) {
          values[k] = t.dataSync()[0] * batchSize;
          t.dispose();
        }
        for (const [k, v] of Object.entries(values)) sums[k] = (sums[k] ?? 0) + v;
        seen += values.__n;
        await o.onProgress?.((done + 1) / totalSteps);
        await yieldToEventLoop();
      }
      throwIfCancelled(o.signal);
      const v = await o.validate();
      const mean = (k: string) => (k in sums ? sums[k] / seen : null);
      const extra: Record<string, number | null> = { ...v.extra };
      for (const k of Object.keys(sums)) if (k !== '__n' && k !== 'loss' && k !== 'accuracy') extra[k] = mean(k);
      const m: EpochMetrics = {
        epoch,
        loss: mean('loss') ?? Number.NaN,
        accuracy: mean('accuracy'),
        valLoss: v.valLoss,
        valAccuracy: v.valAccuracy,
        ...(Object.keys(extra).length ? { extra } : {}),
      };
      epochs.push(m);
      await o.onEpoch?.(m);
      if (o.patience === null || v.valLoss === null || !Number.isFinite(v.valLoss)) continue;
      if (!best || v.valLoss < best.loss) {
        best?.weights.forEach((t) => t.dispose());
        best = { loss: v.valLoss, epoch, weights: o.weights.map((w) => tf.keep(w.read().clone())) };
        sinceBest = 0;
      } else if (++sinceBest >= o.patience) {
        stoppedEarly = true;
        break;
      }
    }
    if (best && best.epoch !== epochs.length) o.weights.forEach((w, i) => w.write(best!.weights[i]));
    return { epochs, bestEpoch: best?.epoch ?? epochs.length, stoppedEarly };
  } finally {
    best?.weights.forEach((t) => t.dispose());
  }
}

/** Shuffled mini-batches of 0..n-1 for one epoch; the last batch may be smaller. */
export function shuffledBatches(n: number, batchSize: number, rand: () => number): Int32Array[] {
  const p = permutation(n, rand);
  const out: Int32Array[] = [];
  for (let i = 0; i < n; i += batchSize) out.push(p.subarray(i, Math.min(n, i + batchSize)));
  return out;
}

/**
 * `steps` batches of exactly min(batchSize, n) indices, drawn from back-to-back permutations of 0..n-1: lets
 * two sets of different sizes (source and target domain) be walked in lock-step.
 */
export function cycledBatches(n: number, batchSize: number, steps: number, rand: () => number): Int32Array[] {
  const size = Math.min(batchSize, n);
  const order = new Int32Array(steps * size);
  for (let filled = 0; filled < order.length; filled += n) {
    const p = permutation(n, rand);
    order.set(p.subarray(0, Math.min(n, order.length - filled)), filled);
  }
  return Array.from({ length: steps }, (_, s) => order.subarray(s * size, (s + 1) * size));
}

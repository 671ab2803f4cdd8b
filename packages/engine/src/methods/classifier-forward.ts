// Running a trained classifier (suffix -> head) over a cached example set: validation metrics per epoch and
// the probabilities the final evaluation scores. Same computation as the served model, minus the prefix.
import * as tf from '@tensorflow/tfjs';
import type { ExampleSet } from './example-set.ts';
import { batchInputs, batchSide, headInput, mirrorViewOf, rowSize } from './example-set.ts';
import type { LayerStack } from './heads.ts';
import type { EpochValidation } from './training-loop.ts';
import type { SuffixRunner } from '../suffix/index.ts';

/** Class logits of a batch (with its side features, if the set has them); the caller disposes inputs and result. */
export interface Forward {
  (x: tf.Tensor, side?: tf.Tensor2D | null): Promise<tf.Tensor2D>;
  /** every variable the logits depend on (the suffix's frozen weights are constants of its runner) */
  readonly weights: readonly tf.LayerVariable[];
}

/** suffix in inference mode (BatchNorm on its moving statistics, as when fine-tuning small data) then head. */
export function classifierForward(suffix: Pick<SuffixRunner, 'predict' | 'trainableWeights'>, head: LayerStack): Forward {
  const forward = async (x: tf.Tensor, side: tf.Tensor2D | null = null) => {
    const features = await suffix.predict(x);
    try {
      return tf.tidy(() => head.apply(headInput(side, features)) as tf.Tensor2D);
    } finally {
      features.dispose();
    }
  };
  return Object.assign(forward, { weights: [...suffix.trainableWeights, ...head.layers.flatMap((l) => l.weights)] });
}

/**
 * Rows per inference call: no gradient is kept, so small rows go in larger calls than the training batch (up to
 * 2²⁰ input floats, 256 rows). fine_tune's validation at 96 px (1,000 rows of 3×3×160) took 25–30 % less CPU in
 * calls of 256 than of 32: a call's fixed costs and thin matrix products. Images (27,648 floats at 96 px) stay near
 * `batchSize`.
 */
function inferenceRows(set: ExampleSet, batchSize: number): number {
  const floats = rowSize(set) + (set.side?.dim ?? 0);
  return Math.max(batchSize, Math.min(256, Math.floor(2 ** 20 / floats)));
}

/**
 * The last probabilities computed for a set, with the tensors its weights held then: a variable's tensor is
 * never changed in place (optimisers and restores assign new ones), so the same tensors give the same numbers.
 * The final evaluation of fine_tune and multi_task scores the weights the last validation pass already scored
 * (a pass over the validation set, 1,000 rows × 5 epochs at 96 px: a sixth of the validation arithmetic).
 */
const lastProbabilities = new WeakMap<ExampleSet, { tensors: object[]; trainingBatch: number; mirrors: boolean; probs: Float32Array }>();

/**
 * Class probabilities [count x numClasses] for view 0 of a set, in calls of inferenceRows(); with `mirrors` the
 * mean of view 0's and its mirror's, as the served model averages them (flipViews).
 */
export async function predictProbabilities(set: ExampleSet, forward: Forward, trainingBatch: number, mirrors = false): Promise<Float32Array> {
  const tensors = forward.weights.map((w) => w.read().dataId);
  const last = lastProbabilities.get(set);
  const same = last && last.trainingBatch === trainingBatch && last.mirrors === mirrors && last.tensors.length === tensors.length && last.tensors.every((t, k) => t === tensors[k]);
  if (same) return last.probs.slice();
  const probs = await computeProbabilities(set, forward, trainingBatch, mirrors);
  lastProbabilities.set(set, { tensors, trainingBatch, mirrors, probs: probs.slice() });
  return probs;
}

async function computeProbabilities(set: ExampleSet, forward: Forward, trainingBatch: number, mirrors: boolean): Promise<Float32Array> {
  let out: Float32Array | null = null;
  const batchSize = inferenceRows(set, trainingBatch);
  const views = mirrors ? [0, mirrorViewOf(set)] : [0];
  for (let i = 0; i < set.count; i += batchSize) {
    const idx = Int32Array.from({ length: Math.min(batchSize, set.count - i) }, (_, j) => i + j);
    let probs: Float32Array | null = null;
    for (const view of views) {
      const x = batchInputs(set, idx, () => view);
      const side = batchSide(set, idx, () => view);
      const logits = await forward(x, side).finally(() => tf.dispose([x, side ?? []]));
      const p = tf.tidy(() => tf.softmax(logits).dataSync() as Float32Array);
      logits.dispose();
      probs = probs ? probs.map((q, j) => (q + p[j]) / 2) : p;
    }
    out ??= new Float32Array(set.count * (probs!.length / idx.length));
    out.set(probs!, i * (probs!.length / idx.length));
  }
  return out ?? new Float32Array(0);
}

/** Summed cross-entropy and hits (argmax = label) of class probabilities [labels.length × k], row after row. */
export function probabilityScore(probs: Float32Array | Float64Array, labels: ArrayLike<number>, k: number): { loss: number; hits: number } {
  let loss = 0;
  let hits = 0;
  for (let i = 0; i < labels.length; i++) {
    const row = probs.subarray(i * k, (i + 1) * k);
    const y = labels[i];
    loss -= Math.log(Math.max(row[y], 1e-12));
    let best = 0;
    for (let c = 1; c < k; c++) if (row[c] > row[best]) best = c;
    if (best === y) hits++;
  }
  return { loss, hits };
}

/** Mean cross-entropy and accuracy of a labelled set (`mirrors`: as predictProbabilities). */
export async function lossAndAccuracy(set: ExampleSet, forward: Forward, batchSize: number, mirrors = false): Promise<{ loss: number; accuracy: number }> {
  const probs = await predictProbabilities(set, forward, batchSize, mirrors);
  const { loss, hits } = probabilityScore(probs, set.labels!.subarray(0, set.count), probs.length / Math.max(1, set.count));
  return { loss: loss / Math.max(1, set.count), accuracy: hits / Math.max(1, set.count) };
}

/** Mean of (argmax logits == argmax one-hot) over a batch, as a scalar. */
export function batchAccuracy(logits: tf.Tensor2D, oneHot: tf.Tensor2D): tf.Scalar {
  return tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(oneHot, 1)), 'float32')) as tf.Scalar;
}

/** The per-epoch validation of a classifier; nothing to monitor when there is no validation set. */
export async function validationMetrics(set: ExampleSet | null, forward: Forward, batchSize: number, mirrors = false): Promise<EpochValidation> {
  if (!set) return { valLoss: null, valAccuracy: null };
  const v = await lossAndAccuracy(set, forward, batchSize, mirrors);
  return { valLoss: v.loss, valAccuracy: v.accuracy };
}

// A linear probe: multinomial logistic regression (or a linear SVM) with L2, fitted to convergence on the
// standardised pooled features of a set, min L_c(θ_c, Φ(D)); the L2 strength chosen on held-out features. The
// standardisation is folded into the returned weights, so a Dense layer on the raw features is exact.
// feature_extraction serves it as its classifier; fine_tune and multi_task start their heads from it (LP-FT).
import * as tf from '@tensorflow/tfjs';
import type { ExampleSet } from './example-set.ts';
import { batchInputs, batchSide, headInput, joined, mirrorViewOf } from './example-set.ts';
import { LayerStack, setStandardisation, standardisedSoftmaxHead } from './heads.ts';
import { linearProblem, type LinearFit, type LinearFitOptions, type LinearLoss, type LinearProblem } from './linear-classifier.ts';
import { MIN_IMAGES_TO_SPLIT, stratifiedFolds, stratifiedSplit } from './validation-split.ts';
import { throwIfCancelled } from './training-loop.ts';
import { logisticLoss } from './logistic-regression.ts';
import { addScore, heldOutScore, mirrorVerdict, noScore, type MirrorMode } from './mirror-views.ts';
import { compress, compressionScale, compressionLayers, setCompressionScale, SQUASH_MAX_IMAGES } from './feature-compression.ts';
import type { SuffixRunner } from '../suffix/index.ts';

/**
 * Inverse L2 strengths tried (scikit-learn's C convention), half a decade apart. Thousands of standardised
 * features on a few hundred images overfit at C = 1, so C is chosen by the held-out loss, then refitted on all.
 */
const C_GRID = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1];
/**
 * Up to this many training images C is chosen by stratified 5-fold cross-validation: one held-out fifth of 400
 * images judges C by a few dozen images, and its verdict flips with which ones. Above it one fifth (200 images
 * and more) is plenty, and 5 folds would cost 4.5× the fits: at 2,000 images × 2,784 block-end features the
 * 36 fits took 42 s of a 54 s job through the service (bench/service/job-speed.ts), where PyTorch's whole
 * script took 15.5 s.
 */
export const CV_MAX_IMAGES = 1000;
const CV_FOLDS = 5;
/**
 * A validation set of at least this many images judges C by itself (the "plenty" above) when the training data
 * is beyond cross-validation or the validation set is as large as it (as many held-out verdicts as k folds
 * give): then each C is one fit on all the training data and the chosen fit is the probe, with no refit.
 */
const VALIDATION_JUDGES_FROM = 200;
/** Rises of the held-out loss in a row along the C path after which the weaker Cs are skipped. */
const RISES_TO_STOP = 2;
/** Tolerance 1e-4 on the gradient (scikit-learn's), and enough iterations to actually converge. */
const MAX_ITERATIONS = 1000;
const GRADIENT_TOLERANCE = 1e-4;
/**
 * The C path's fits only rank the Cs: at 1e-3 they took a third of the iterations (2,000 Fashion-MNIST images ×
 * 2,784 block-end features: 115 against 348 up to C = 0.1) and ranked them the same; the chosen C's fit then
 * continues to GRADIENT_TOLERANCE.
 */
const PATH_TOLERANCE = 1e-3;

/**
 * What the head reads for a view of a set (default view 0): the side features (if any), then the suffix's pooled
 * output (the suffix is identity-like when everything is frozen), run in inference mode.
 */
export async function pooledFeatures(suffix: Pick<SuffixRunner, 'predict'>, set: ExampleSet, batchSize: number, view = 0): Promise<{ x: Float32Array; d: number }> {
  const parts: Float32Array[] = [];
  let d = 0;
  for (let i = 0; i < set.count; i += batchSize) {
    const idx = Int32Array.from({ length: Math.min(batchSize, set.count - i) }, (_, j) => i + j);
    const batch = batchInputs(set, idx, () => view);
    const side = batchSide(set, idx, () => view);
    const pooled = await suffix.predict(batch).finally(() => batch.dispose());
    const f = headInput(side, pooled);
    d = f.shape[1]!;
    parts.push(f.dataSync() as Float32Array);
    tf.dispose([f, pooled, side ?? []]);
  }
  const x = new Float32Array(set.count * d);
  parts.reduce((off, p) => (x.set(p, off), off + p.length), 0);
  return { x, d };
}

export function meanAndScale(x: Float32Array, n: number, d: number): { mean: Float32Array; scale: Float32Array } {
  const mean = new Float32Array(d);
  const scale = new Float32Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j] / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) scale[j] += (x[i * d + j] - mean[j]) ** 2 / n;
  // constant features (e.g. dead ReLUs) keep scale 1 instead of dividing by ~0
  for (let j = 0; j < d; j++) scale[j] = scale[j] > 1e-12 ? Math.sqrt(scale[j]) : 1;
  return { mean, scale };
}

function rows(z: Float32Array, d: number, idx: number[]): Float32Array {
  const out = new Float32Array(idx.length * d);
  idx.forEach((i, j) => out.set(z.subarray(i * d, (i + 1) * d), j * d));
  return out;
}

export interface ProbeOptions {
  loss: LinearLoss;
  /** held-out labelled data that may judge C (VALIDATION_JUDGES_FROM) instead of folds of the training set */
  validation?: ExampleSet | null;
  batchSize: number;
  rand: () => number;
  signal?: AbortSignal;
  onProgress?(fraction: number): void | Promise<void>;
  /** a C already chosen (the refit on every labelled image): one fit at it, no held-out parts */
  C?: number;
  /** where that one fit starts: the chosen fit on part of these images lies close to it */
  warmStart?: LinearFit;
  /** the set's mirrored views (when it has them): judged against none by the held-out parts, used, or not (default) */
  mirrors?: MirrorMode;
  /** compress the features before standardising them (feature-compression.ts); a refit keeps the first fit's choice */
  compress?: boolean;
}

export interface LinearProbe {
  /** [d × k] row-major and [k], for the pooled features as compressed (standardisation folded in) */
  kernel: Float32Array;
  bias: Float32Array;
  d: number;
  C: number;
  /** held-out parts C was judged on (5 folds on small sets, 1 fifth or the validation set on large ones, 0 on a handful of images) */
  folds: number;
  /** images those parts hold together (the validation set's, or the training images held out) */
  heldOutImages: number;
  /** the fit on the standardised features, and the standardisation */
  fit: LinearFit;
  mean: Float32Array;
  scale: Float32Array;
  /** each feature's compression scale (o.compress), from the same images as the standardisation */
  compression: Float32Array | null;
  /** the fit trained on the mirrors too, and the served model averages each image with its mirror */
  mirrors: boolean;
  /** when mirrors were judged: the verdict's why, with both held-out scores */
  mirrorWhy?: string;
}

/** Fits the probe on the pooled features of view 0 of `set` (labelled, `k` classes), with its mirrors as `o.mirrors` says. */
export async function fitLinearProbe(runner: Pick<SuffixRunner, 'predict'>, set: ExampleSet, k: number, o: ProbeOptions): Promise<LinearProbe> {
  const { loss, rand } = o;
  const pooled = await pooledFeatures(runner, set, o.batchSize);
  const { d } = pooled;
  const n = set.count;
  const compression = o.compress ? compressionScale(pooled.x, n, d) : null;
  const x = compression ? compress(pooled.x, compression) : pooled.x;
  const features = async (s: ExampleSet, view?: number) => {
    const f = (await pooledFeatures(runner, s, o.batchSize, view)).x;
    return compression ? compress(f, compression) : f;
  };
  const y = set.labels!;
  const v = o.validation;
  const byValidation = !!v?.labels && v.count >= VALIDATION_JUDGES_FROM && (n > CV_MAX_IMAGES || v.count >= n);
  // held-out parts that judge C: k folds on small data, else one stratified fifth; none on a handful of images
  const heldOut = o.C !== undefined || byValidation || n < MIN_IMAGES_TO_SPLIT ? [] : n <= CV_MAX_IMAGES ? stratifiedFolds(y, CV_FOLDS, rand) : [stratifiedSplit(y, 0.2, rand).validation];
  const folds = heldOut.filter((f) => f.length > 0 && f.length < n);
  const parts = byValidation ? 1 : folds.length;
  // mirrors are judged only where held-out parts can see them served (the validation set must have its mirrors too)
  const wanted = set.mirror ? (o.mirrors ?? 'off') : 'off';
  const mode: MirrorMode = wanted === 'judge' && (parts === 0 || (byValidation && !v!.mirror)) ? 'off' : wanted;
  const xm = mode === 'off' ? null : await features(set, mirrorViewOf(set));
  const xv = byValidation ? await features(v!) : null;
  const xvm = byValidation && mode !== 'off' && v!.mirror ? await features(v!, mirrorViewOf(v!)) : null;
  const arms = mode === 'judge' ? [false, true] : [mode === 'use'];
  const fits = arms.length * (parts * C_GRID.length + (byValidation ? 0 : 1));
  let fitIndex = 0;
  const fitOptions = (C: number, gradientTolerance: number, warmStart?: LinearFit): LinearFitOptions => ({
    C,
    warmStart,
    maxIterations: MAX_ITERATIONS,
    gradientTolerance,
    onIteration: async (it: number) => {
      throwIfCancelled(o.signal);
      // L-BFGS needs tens to hundreds of iterations; progress assumes ~100 per fit
      await o.onProgress?.(Math.min(0.99, (fitIndex + Math.min(1, it / 100)) / fits));
      await new Promise<void>((resolve) => setImmediate(resolve));
      throwIfCancelled(o.signal);
    },
  });
  /**
   * One arm: the standardisation, the C path over the held-out parts and the chosen C's held-out fits, the
   * training images' rows (with their mirrors after them when `withMirrors`). With mirrors the held-out loss is
   * that of what the arm serves, the mean of an image's and its mirror's probabilities (judged in JS on the few
   * held-out rows): C is chosen for the served prediction, as it is without mirrors.
   */
  const cPath = async (withMirrors: boolean) => {
    const { mean, scale } = withMirrors ? meanAndScale(joined(x, xm!), 2 * n, d) : meanAndScale(x, n, d);
    const standardise = (val: number, i: number) => (val - mean[i % d]) / scale[i % d];
    const z = x.map(standardise);
    const zm = withMirrors ? xm!.map(standardise) : null;
    const trainRows = async (idx: number[]) => {
      const labels = Int32Array.from(idx, (i) => y[i]);
      return zm ? linearProblem(joined(rows(z, d, idx), rows(zm, d, idx)), joined(labels, labels), d, k, loss) : linearProblem(rows(z, d, idx), labels, d, k, loss);
    };
    const everyImage = Array.from({ length: n }, (_, i) => i);
    const heldLoss: number[] = [];
    const lastFits: LinearFit[] = [];
    const partFits: LinearFit[][] = [];
    // judged by the validation set, the path fits all the training data: the chosen fit only converges further
    const all: LinearProblem | undefined = byValidation ? await trainRows(everyImage) : undefined;
    const zv = xv?.map(standardise);
    const zvm = zm && xvm ? xvm.map(standardise) : null;
    // the held-out rows of each part (and their mirrors, which the arm's served prediction averages in)
    const held = byValidation
      ? [{ z: zv!, zm: zvm, y: v!.labels! }]
      : folds.map((fold) => ({ z: rows(z, d, fold), zm: zm ? rows(zm, d, fold) : null, y: Int32Array.from(fold, (i) => y[i]) }));
    const served = !!zm && held.every((h) => h.zm);
    const problems: { problem: LinearProblem; heldOut: LinearProblem | null; count: number; fit?: LinearFit }[] = [];
    try {
      if (all) problems.push({ problem: all, heldOut: served ? null : await linearProblem(zv!, v!.labels!, d, k, loss), count: v!.count });
      for (const [p, fold] of folds.entries()) {
        const inFold = new Set(fold);
        const problem = await trainRows(everyImage.filter((i) => !inFold.has(i)));
        problems.push({ problem, heldOut: served ? null : await linearProblem(held[p].z, held[p].y, d, k, loss), count: fold.length });
      }
      // Along the C path from strong to weak regularisation, every part's fit warm-started from its fit at the
      // previous C. The summed held-out loss (not accuracy: a few dozen held-out images change accuracy in steps of
      // several points, so accuracy ties and flips with how far each fit converged) falls to its minimum and then
      // rises; once it has risen RISES_TO_STOP times in a row the weaker Cs are not fitted: they cost the most
      // iterations and cannot win.
      let rises = 0;
      for (const [ci, c] of problems.length ? C_GRID.entries() : []) {
        heldLoss[ci] = 0;
        for (const [p, f] of problems.entries()) {
          f.fit = await f.problem.fit(fitOptions(c, PATH_TOLERANCE, f.fit));
          if (f.heldOut) heldLoss[ci] += (await f.heldOut.meanLoss(f.fit)) * f.count;
          else heldLoss[ci] += heldOutScore(f.fit, held[p].z, held[p].zm, held[p].y, d).loss;
          fitIndex++;
        }
        partFits[ci] = problems.map((f) => f.fit!);
        // the last fold's fit warm-starts the final one: the optimum moves little when a fold more of data joins
        lastFits[ci] = problems[problems.length - 1].fit!;
        rises = ci > 0 && heldLoss[ci] > heldLoss[ci - 1] ? rises + 1 : 0;
        if (rises >= RISES_TO_STOP) break;
      }
    } catch (err) {
      await all?.dispose();
      throw err;
    } finally {
      await Promise.all(problems.flatMap((f) => [...(f.heldOut ? [f.heldOut] : []), ...(f.problem === all ? [] : [f.problem])]).map((p) => p.dispose()));
    }
    // strictly better only: ties keep the stronger regularisation; no held-out data at all: C = 1
    let best = parts ? 0 : C_GRID.indexOf(1);
    heldLoss.forEach((l, i) => (l < heldLoss[best] ? (best = i) : undefined));
    // what the served prediction scores on the held-out images at the chosen C, when mirrors are judged
    const score = noScore();
    if (mode === 'judge') held.forEach((h, p) => addScore(score, heldOutScore(partFits[best][p], h.z, h.zm, h.y, d)));
    return { withMirrors, mean, scale, best, lastFits, all, score, trainRows: () => all ?? trainRows(everyImage) };
  };
  const paths: Awaited<ReturnType<typeof cPath>>[] = [];
  let fit: LinearFit;
  let verdict: { use: boolean; why: string } | undefined;
  let chosen: (typeof paths)[number] | undefined;
  try {
    for (const withMirrors of arms) paths.push(await cPath(withMirrors));
    if (mode === 'judge') verdict = mirrorVerdict(paths[1].score, paths[0].score, byValidation ? `on the ${v!.count} validation images` : `over ${parts}-fold cross-validation`);
    chosen = paths[verdict?.use ? 1 : 0];
    const problem = await chosen.trainRows();
    try {
      fit = await problem.fit(fitOptions(o.C ?? C_GRID[chosen.best], GRADIENT_TOLERANCE, chosen.lastFits[chosen.best] ?? o.warmStart));
    } finally {
      await problem.dispose();
    }
  } finally {
    await Promise.all(paths.filter((p) => p !== chosen).map((p) => p.all?.dispose()));
  }
  const { mean, scale, withMirrors, best } = chosen;
  const C = o.C ?? C_GRID[best];
  // scores = ((x − μ)/σ)·W + b = x·(W/σ) + (b − (μ/σ)·W)
  const kernel = new Float32Array(d * k);
  const bias = Float32Array.from(fit.bias);
  for (let j = 0; j < d; j++) {
    for (let c = 0; c < k; c++) {
      kernel[j * k + c] = fit.kernel[j * k + c] / scale[j];
      bias[c] -= (mean[j] / scale[j]) * fit.kernel[j * k + c];
    }
  }
  const heldOutImages = byValidation ? v!.count : folds.reduce((a, f) => a + f.length, 0);
  return { kernel, bias, d, C, folds: parts, heldOutImages, fit, mean, scale, compression, mirrors: withMirrors, ...(verdict ? { mirrorWhy: verdict.why } : {}) };
}

/** Sets a probe's head's Dense (its last layer) to `kernel`/`bias`, and its compression layers (its first) to the probe's. */
function setProbeLayers(head: LayerStack, probe: LinearProbe, kernel: Float32Array, bias: Float32Array): void {
  if (probe.compression) setCompressionScale(head.layers[0], probe.compression);
  tf.tidy(() => head.layers[head.layers.length - 1].setWeights([tf.tensor2d(kernel, [probe.d, bias.length]), tf.tensor1d(bias)]));
}

/** Sets a one-Dense head (after the compression layers when the probe compresses) to the probe. */
export function setHeadWeights(head: LayerStack, probe: LinearProbe): void {
  setProbeLayers(head, probe, probe.kernel, probe.bias);
}

/** Sets a standardised head (standardisedSoftmaxHead) to the probe: its compression, standardisation, then its fit. */
function setStandardisedHeadWeights(head: LayerStack, probe: LinearProbe): void {
  setStandardisation(head, probe.mean, probe.scale);
  setProbeLayers(head, probe, probe.fit.kernel, probe.fit.bias);
}

/**
 * Refits a head that is a probe, in place, on `all` labelled images (the training images and the held-out ones
 * that judged it) at the C chosen on the training images: scikit-learn's LogisticRegressionCV(refit=True). The
 * held-out images have scored the fit without them by then; they are then worth more as training data
 * (Fashion-MNIST, 40 labels/class, InceptionV3 block ends, through the service: 0.810 ± 0.009 → 0.819 ± 0.001 on
 * 1,000 test images over 3 seeds; LP-FT's probe served by fine_tune and multi_task: 0.786 → 0.792, seed 1).
 */
export interface ProbeRefit {
  /** the C chosen on the training images, kept */
  C: number;
  fit(all: ExampleSet): Promise<void>;
}

function probeRefit(runner: Pick<SuffixRunner, 'predict'>, k: number, o: ProbeOptions, chosen: LinearProbe, set: (p: LinearProbe) => void): ProbeRefit {
  const { loss, batchSize, rand, signal } = o;
  const mirrors = chosen.mirrors ? 'use' : 'off';
  const refitOptions = { loss, batchSize, rand, signal, C: chosen.C, warmStart: chosen.fit, mirrors, compress: chosen.compression !== null } as const;
  return { C: chosen.C, fit: async (all) => set(await fitLinearProbe(runner, all, k, refitOptions)) };
}

/** The probe as a one-Dense head (standardisation folded in), and its refit on every labelled image. */
export async function linearProbeHead(runner: Pick<SuffixRunner, 'predict'>, set: ExampleSet, k: number, o: ProbeOptions): Promise<{ head: LayerStack; probe: LinearProbe; refit: ProbeRefit }> {
  const probe = await fitLinearProbe(runner, set, k, o);
  // built through a forward pass so its weights are saved as graft_head/kernel, which model.json names
  const head = LayerStack.built([...(probe.compression ? compressionLayers('graft_head') : []), tf.layers.dense({ name: 'graft_head', units: k })], probe.d);
  setHeadWeights(head, probe);
  return { head, probe, refit: probeRefit(runner, k, o, probe, (p) => setHeadWeights(head, p)) };
}

/**
 * LP-FT's first stage: a classifier head (one Dense layer on `set`'s pooled features) set to the logistic
 * regression probe on the current (pretrained) features; returns its refit.
 */
export async function startFromLinearProbe(runner: Pick<SuffixRunner, 'predict'>, head: LayerStack, set: ExampleSet, k: number, o: Omit<ProbeOptions, 'loss'>): Promise<ProbeRefit> {
  const probe = await fitLinearProbe(runner, set, k, { ...o, loss: logisticLoss });
  setHeadWeights(head, probe);
  return probeRefit(runner, k, { ...o, loss: logisticLoss }, probe, (p) => setHeadWeights(head, p));
}

/**
 * The classifier head on block-end features (cached side features and the suffix's): standardised on the set's
 * features; with `probe` its Dense starts as the logistic-regression probe on them (LP-FT, C by cross-validation),
 * else at random. `l2` is the probe's own penalty on the Dense kernel (α/2·‖W‖² with α = 1/(C·n) on the mean
 * loss, as linear-classifier.ts): fine-tuning keeps minimising the objective the probe minimised, so the head
 * stays as regularised as cross-validation chose (without it Adam fits 320 images in one epoch and the
 * validation loss only rises: Fashion-MNIST at 40 labels/class), 0 without a probe. `refit`: the probe's.
 */
export async function standardisedHeadFor(
  name: string,
  runner: Pick<SuffixRunner, 'predict'>,
  set: ExampleSet,
  k: number,
  seed: number,
  probe: boolean,
  o: Omit<ProbeOptions, 'loss'>,
): Promise<{ head: LayerStack; l2: number; refit?: ProbeRefit }> {
  if (probe) {
    const options = { ...o, loss: logisticLoss, compress: set.count <= SQUASH_MAX_IMAGES };
    const p = await fitLinearProbe(runner, set, k, options);
    const head = standardisedSoftmaxHead(name, p.mean, p.scale, k, seed, p.compression);
    setStandardisedHeadWeights(head, p);
    return { head, l2: 1 / (p.C * set.count), refit: probeRefit(runner, k, options, p, (q) => setStandardisedHeadWeights(head, q)) };
  }
  const { x, d } = await pooledFeatures(runner, set, o.batchSize);
  const { mean, scale } = meanAndScale(x, set.count, d);
  return { head: standardisedSoftmaxHead(name, mean, scale, k, seed), l2: 0 };
}

/** α/2·‖kernel‖² of a head's last Dense, inside a gradient tape (0 when α is 0). */
export function kernelPenalty(head: LayerStack, l2: number): tf.Scalar {
  const kernel = head.layers[head.layers.length - 1].trainableWeights[0].read();
  return l2 > 0 ? (tf.sum(tf.square(kernel)).mul(l2 / 2) as tf.Scalar) : tf.scalar(0);
}

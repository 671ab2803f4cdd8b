// Horizontal-flip views for the linear probe (flipViews): each image's mirror trains as a second row, and the
// served model averages the class probabilities of an image and its mirror. Whether that helps is the data's
// to say (mirrors are wrong for text and digits), so the probe's held-out parts score the served prediction
// both ways on the same images, and the better one is kept; the verdict's why names both scores.
import { probabilityScore } from './classifier-forward.ts';

/** How the probe treats mirrored views: judge them against none by its held-out parts, use them, or not. */
export type MirrorMode = 'judge' | 'use' | 'off';

/** Held-out score of a served prediction: summed log-loss (softmax of the scores) and hits over the images. */
export interface HeldOutScore {
  loss: number;
  hits: number;
  images: number;
}

export const noScore = (): HeldOutScore => ({ loss: 0, hits: 0, images: 0 });

/** Softmax of one row of scores, in place. */
function softmaxRow(s: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of s) max = Math.max(max, v);
  let sum = 0;
  for (let c = 0; c < s.length; c++) sum += s[c] = Math.exp(s[c] - max);
  for (let c = 0; c < s.length; c++) s[c] /= sum;
  return s;
}

/** Class scores x·W + b of row r of `x` [rows × d] for a fit on the same (standardised) features. */
function scoresOf(fit: { kernel: Float32Array; bias: Float32Array }, x: Float32Array, r: number, d: number, k: number): Float64Array {
  const s = Float64Array.from(fit.bias);
  for (let j = 0; j < d; j++) {
    const v = x[r * d + j];
    if (v === 0) continue;
    for (let c = 0; c < k; c++) s[c] += v * fit.kernel[j * k + c];
  }
  return s;
}

export function addScore(into: HeldOutScore, s: HeldOutScore): void {
  into.loss += s.loss;
  into.hits += s.hits;
  into.images += s.images;
}

/**
 * The served prediction's score on held-out rows `x` (and their mirrors `mirror`, whose class probabilities
 * the served model averages with the image's; null: the image alone).
 */
export function heldOutScore(fit: { kernel: Float32Array; bias: Float32Array }, x: Float32Array, mirror: Float32Array | null, y: ArrayLike<number>, d: number): HeldOutScore {
  const k = fit.bias.length;
  const probs = new Float64Array(y.length * k);
  for (let r = 0; r < y.length; r++) {
    const p = softmaxRow(scoresOf(fit, x, r, d, k));
    if (mirror) {
      const q = softmaxRow(scoresOf(fit, mirror, r, d, k));
      for (let c = 0; c < k; c++) p[c] = (p[c] + q[c]) / 2;
    }
    probs.set(p, r * k);
  }
  return { ...probabilityScore(probs, y, k), images: y.length };
}

/**
 * Held-out log-loss per image that mirrors must save to be kept: a mirrored model costs twice the forward pass
 * per prediction, so a tie (separable data, where both are near 0) keeps the cheaper one. Fashion-MNIST 40/class
 * saved 0.017 where mirrors won on 1,000 test images (seed 2: 0.833 against 0.819).
 */
const MIRROR_MARGIN = 0.005;

/** The verdict of a judged comparison, and why: mirrors only when their held-out log-loss is lower by MIRROR_MARGIN. */
export function mirrorVerdict(withMirrors: HeldOutScore, without: HeldOutScore, judgedBy: string): { use: boolean; why: string } {
  const mean = (s: HeldOutScore) => s.loss / s.images;
  const show = (s: HeldOutScore) => `log-loss ${mean(s).toFixed(3)}, accuracy ${(s.hits / s.images).toFixed(3)}`;
  const use = mean(withMirrors) < mean(without) - MIRROR_MARGIN;
  const verdict = use ? "averaged with each image's mirror scored better" : `of the image alone scored as well (mirrors must save ${MIRROR_MARGIN} of log-loss: they double the cost of a prediction)`;
  return { use, why: `${judgedBy}, the served prediction ${verdict}: ${show(withMirrors)} with mirrors against ${show(without)} without` };
}

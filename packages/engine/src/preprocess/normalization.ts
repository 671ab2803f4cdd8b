// How an 8-bit RGB pixel becomes a model input value: value[c] = (pixel[order[c]] · scale − mean[c]) / std[c].
// The named conventions are Keras' imagenet_utils modes ("tf", "caffe", "torch"); a linear pixelRange (the
// older, still accepted form) is the special case mean = −lo, std = 1, RGB. One description drives the
// decoder that training and /predict share, and is written into the checkpoint and the exported models.
import { ErrorCode, GraftError, type PixelPreprocessing } from '@graft/spec';
import type { Preprocessing } from './decode-image.ts';

export type Rgb = [number, number, number];

export interface PixelNormalization {
  scale: number;
  mean: Rgb;
  std: Rgb;
  channelOrder: 'rgb' | 'bgr';
}

/** Keras imagenet_utils.preprocess_input's modes, spelled out. */
export const namedPreprocessing: Record<'tf' | 'caffe' | 'torch', PixelNormalization> = {
  tf: { scale: 1 / 127.5, mean: [1, 1, 1], std: [1, 1, 1], channelOrder: 'rgb' },
  // the mean is Keras' own, listed in BGR order because the model's first channel is blue
  caffe: { scale: 1, mean: [103.939, 116.779, 123.68], std: [1, 1, 1], channelOrder: 'bgr' },
  torch: { scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], channelOrder: 'rgb' },
};

/** The linear map of 0…255 onto [lo, hi]. */
export function fromPixelRange([lo, hi]: [number, number]): PixelNormalization {
  return { scale: (hi - lo) / 255, mean: [-lo, -lo, -lo], std: [1, 1, 1], channelOrder: 'rgb' };
}

/** A spec's preprocessing (named or explicit) as numbers; explicit values are checked (std > 0, finite). */
export function resolvePreprocessing(p: PixelPreprocessing): PixelNormalization {
  if (typeof p === 'string') {
    const named = namedPreprocessing[p];
    if (!named) throw new GraftError(ErrorCode.validation, `unknown preprocessing "${p}": use tf, caffe, torch or { scale, mean, std, channelOrder }`);
    return structuredClone(named);
  }
  const numbers = [p.scale, ...p.mean, ...p.std];
  if (!numbers.every(Number.isFinite) || p.std.some((s) => s <= 0) || p.scale <= 0) {
    throw new GraftError(ErrorCode.validation, 'preprocessing needs a finite scale > 0, finite means and std > 0 for each channel');
  }
  return { scale: p.scale, mean: [...p.mean], std: [...p.std], channelOrder: p.channelOrder };
}

/** A normalisation that a pixelRange describes exactly (then checkpoints keep the old, shorter form). */
export function asPixelRange(n: PixelNormalization): [number, number] | null {
  const [m] = n.mean;
  if (n.channelOrder !== 'rgb' || n.mean.some((v) => v !== m) || n.std.some((v) => v !== 1)) return null;
  return [0 - m, 255 * n.scale - m];
}

/** The smallest and largest input value over all channels (for BackboneInfo.pixelRange). */
export function valueRange(n: PixelNormalization): [number, number] {
  const ends = [0, 1, 2].flatMap((c) => [(0 - n.mean[c]) / n.std[c], (255 * n.scale - n.mean[c]) / n.std[c]]);
  return [Math.min(...ends), Math.max(...ends)];
}

/**
 * 8-bit RGB (HWC) -> model input floats, optionally scaled by a brightness factor first (clipped to 0…255).
 * Per output channel c: (rgb[src(c)] · brightness · scale − mean[c]) / std[c], folded into one multiply-add and
 * tabulated for the 256 byte values: one table read per value (the per-value arithmetic cost ~0.3 ms of CPU per
 * 96 px image, 1 s of a 3,000-image prefix pass).
 */
export function normalizePixels(rgb: Uint8Array, n: PixelNormalization, brightness = 1, out = new Float32Array(rgb.length)): Float32Array {
  const [s0, s1, s2] = n.channelOrder === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  const [t0, t1, t2] = [0, 1, 2].map((c) => {
    const t = new Float32Array(256);
    for (let v = 0; v < 256; v++) t[v] = Math.min(255, v * brightness) * (n.scale / n.std[c]) + -n.mean[c] / n.std[c];
    return t;
  });
  for (let i = 0; i < rgb.length; i += 3) {
    out[i] = t0[rgb[i + s0]];
    out[i + 1] = t1[rgb[i + s1]];
    out[i + 2] = t2[rgb[i + s2]];
  }
  return out;
}

/**
 * The decoder's options for a backbone at `imageSize`: its pixel range alone when that says everything (the
 * form checkpoints have always had), else the full normalisation beside the resulting value range.
 */
export function decoderPreprocessing(backbone: { pixelRange: [number, number]; preprocessing?: PixelPreprocessing }, imageSize: number): Preprocessing {
  const n = backbone.preprocessing === undefined ? null : resolvePreprocessing(backbone.preprocessing);
  if (!n || asPixelRange(n)) return { imageSize, pixelRange: n ? asPixelRange(n)! : backbone.pixelRange, resize: 'cover' };
  return { imageSize, pixelRange: valueRange(n), resize: 'cover', normalization: n };
}

// One image decoder for training and /predict alike, so a served model sees exactly the pixels it was
// trained on: EXIF orientation applied, sRGB, 3 channels (grey expanded, alpha dropped), resized to a
// square (centre crop 'cover' by default, or stretched 'fill'), then normalised as the backbone expects
// (a pixel range, or mean/std/channel order: see normalization.ts).
import sharp, { type OutputInfo, type Sharp } from 'sharp';
import { ErrorCode, GraftError } from '@graft/spec';
import { fromPixelRange, normalizePixels, type PixelNormalization } from './normalization.ts';

export interface Preprocessing {
  imageSize: number;
  /** the input value range; the whole normalisation when `normalization` is absent (older checkpoints) */
  pixelRange: [number, number];
  resize: 'cover' | 'fill';
  /** per-channel mean/std and channel order, present when a pixel range cannot describe them */
  normalization?: PixelNormalization;
}

/** The normalisation a Preprocessing stands for. */
export function normalizationOf(p: Preprocessing): PixelNormalization {
  return p.normalization ?? fromPixelRange(p.pixelRange);
}

/** Default decoded-pixel limit: a 64-megapixel photo still decodes, a decompression bomb does not. */
export const defaultMaxPixels = 64_000_000;

/** An encoded image: a file path, or its bytes (an archive entry kept in memory, an upload). */
export type ImageSource = string | Uint8Array;

/** What a pipeline was opened on, for error messages. */
export interface OpenedImage {
  pipeline: Sharp;
  input: ImageSource;
  maxPixels: number;
}

/**
 * sharp pipeline up to an sRGB image oriented upright. One pipeline per image: libvips' per-pipeline cost
 * (~1 ms CPU) dominates small images, so the pixel limit is left to sharp's own check while decoding and the
 * header is read again only to explain a failure.
 */
export function openImage(input: ImageSource, maxPixels = defaultMaxPixels): OpenedImage {
  const pipeline = sharp(input, { limitInputPixels: maxPixels, failOn: 'error' }).rotate().toColourspace('srgb').removeAlpha();
  return { pipeline, input, maxPixels };
}

/**
 * The user-facing error for a pipeline that failed: too many pixels, or not an image at all. `details.decoder`
 * keeps the decoder's own words (a dataset names the damaged file with them).
 */
async function decodeError(img: OpenedImage, err: Error): Promise<GraftError> {
  const name = typeof img.input === 'string' ? img.input : 'upload';
  const meta = await sharp(img.input, { limitInputPixels: false }).metadata().catch(() => null);
  const details = { decoder: err.message.trim() };
  if (!meta) return new GraftError(ErrorCode.unsupportedMediaType, `not a decodable image (${name}): ${err.message}`, details);
  if ((meta.width ?? 0) * (meta.height ?? 0) > img.maxPixels) {
    return new GraftError(ErrorCode.imageTooLarge, `image of ${meta.width}×${meta.height} exceeds the limit of ${img.maxPixels} pixels`);
  }
  return new GraftError(ErrorCode.unsupportedMediaType, `image could not be decoded (${name}): ${err.message}`, { ...details, format: meta.format });
}

/** Raw 8-bit RGB of an opened image after `shape` (resize…); grey inputs that stay single-channel are expanded to 3. */
export async function rawRgb(img: OpenedImage, shape: (p: Sharp) => Sharp = (p) => p): Promise<{ data: Buffer; width: number; height: number }> {
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await shape(img.pipeline).raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw await decodeError(img, err as Error);
  }
  const { data, info } = out;
  if (info.channels === 3) return { data, width: info.width, height: info.height };
  const rgb = Buffer.alloc(info.width * info.height * 3);
  for (let i = 0, j = 0; j < rgb.length; i += info.channels, j += 3) {
    rgb[j] = data[i];
    rgb[j + 1] = info.channels >= 3 ? data[i + 1] : data[i];
    rgb[j + 2] = info.channels >= 3 ? data[i + 2] : data[i];
  }
  return { data: rgb, width: info.width, height: info.height };
}

/** HWC Float32Array of imageSize × imageSize × 3, normalised as `p` says. */
export async function decodeImage(input: ImageSource, p: Preprocessing, opts: { maxPixels?: number } = {}): Promise<Float32Array> {
  const { data } = await rawRgb(openImage(input, opts.maxPixels), (img) => img.resize(p.imageSize, p.imageSize, { fit: p.resize, position: 'centre' }));
  return normalizePixels(data, normalizationOf(p));
}

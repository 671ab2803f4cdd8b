// One image decoder for training and /predict alike, so a served model sees exactly the pixels it was
// trained on: EXIF orientation applied, sRGB, 3 channels (grey expanded, alpha dropped), resized to a
// square (centre crop 'cover' by default, or stretched 'fill'), scaled to the backbone's pixel range.
import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { ErrorCode, GraftError } from '@graft/spec';

export interface Preprocessing {
  imageSize: number;
  pixelRange: [number, number];
  resize: 'cover' | 'fill';
}

/** Default decoded-pixel limit: a 64-megapixel photo still decodes, a decompression bomb does not. */
export const defaultMaxPixels = 64_000_000;

/** sharp pipeline up to an sRGB image oriented upright, after checking the pixel count cheaply. */
export async function openImage(input: string | Buffer, maxPixels = defaultMaxPixels): Promise<Sharp> {
  let meta: Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new GraftError(ErrorCode.unsupportedMediaType, `not a decodable image (${typeof input === 'string' ? input : 'upload'}): ${(err as Error).message}`);
  }
  const pixels = (meta.width ?? 0) * (meta.height ?? 0);
  if (pixels > maxPixels) {
    throw new GraftError(ErrorCode.imageTooLarge, `image of ${meta.width}×${meta.height} exceeds the limit of ${maxPixels} pixels`);
  }
  return sharp(input, { limitInputPixels: maxPixels, failOn: 'error' }).rotate().toColourspace('srgb').removeAlpha();
}

/** Raw 8-bit RGB of a pipeline; grey inputs that stay single-channel are expanded to 3. */
export async function rawRgb(pipeline: Sharp): Promise<{ data: Buffer; width: number; height: number }> {
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await pipeline.raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new GraftError(ErrorCode.unsupportedMediaType, `image could not be decoded: ${(err as Error).message}`);
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

/** 8-bit RGB -> floats in the pixel range, optionally scaled by a brightness factor first (clipped to 0..255). */
export function toPixelRange(rgb: Uint8Array, range: [number, number], brightness = 1, out = new Float32Array(rgb.length)): Float32Array {
  const [lo, hi] = range;
  const k = (hi - lo) / 255;
  for (let i = 0; i < rgb.length; i++) out[i] = Math.min(255, rgb[i] * brightness) * k + lo;
  return out;
}

/** HWC Float32Array of imageSize × imageSize × 3 in the pixel range. */
export async function decodeImage(input: string | Buffer, p: Preprocessing, opts: { maxPixels?: number } = {}): Promise<Float32Array> {
  const img = await openImage(input, opts.maxPixels);
  const { data } = await rawRgb(img.resize(p.imageSize, p.imageSize, { fit: p.resize, position: 'centre' }));
  return toPixelRange(data, p.pixelRange);
}

// Turns what a client sends (base64 strings, { base64 }, { url }, multipart file buffers) into the
// model's input tensor data. Decoding and preprocessing go through the engine's decodeImage — the
// same code path training used — with the checkpoint's own preprocessing, so a served image is
// prepared exactly as the training images were.
import { decodeImage } from '@graft/engine';
import { GraftError } from '@graft/spec';
import { safeFetch } from '@graft/safe-fetch';
import type { Preprocessing } from '@graft/engine';

export type ImageRef = string | { base64: string } | { url: string };

export interface ImageInputLimits {
  /** most encoded bytes one image may have (base64-decoded or downloaded) */
  maxImageBytes: number;
  /** most decoded pixels (width × height) one image may have */
  maxImagePixels: number;
  /** timeout of one image URL download */
  urlTimeoutMs: number;
}

const allowedUrlSchemes = ['http:', 'https:'];
const base64Pattern = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** The encoded bytes of images[index]: decoded from base64 or downloaded over http(s). */
export async function readImageRef(ref: ImageRef, index: number, limits: ImageInputLimits): Promise<Buffer> {
  const where = `images[${index}]`;
  if (typeof ref === 'string' || 'base64' in ref) {
    const raw = (typeof ref === 'string' ? ref : ref.base64).replace(/^data:[^;,]*;base64,/, '').replace(/\s+/g, '');
    if (raw.length === 0 || !base64Pattern.test(raw)) {
      throw new GraftError('validation_error', `${where} is not base64 image data (send a base64 PNG, JPEG or WebP, or { "url": "https://…" }).`, { index });
    }
    const bytes = Buffer.from(raw, raw.includes('-') || raw.includes('_') ? 'base64url' : 'base64');
    if (bytes.byteLength > limits.maxImageBytes) {
      throw new GraftError('payload_too_large', `${where} is ${bytes.byteLength} bytes; at most ${limits.maxImageBytes} bytes per image.`, { index });
    }
    return bytes;
  }
  return downloadImage(ref.url, where, index, limits);
}

async function downloadImage(url: string, where: string, index: number, limits: ImageInputLimits): Promise<Buffer> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new GraftError('validation_error', `${where}.url ${JSON.stringify(url)} is not a URL.`, { index });
  }
  if (!allowedUrlSchemes.includes(parsed.protocol)) {
    throw new GraftError('url_not_allowed', `${where}.url uses ${parsed.protocol}//; only http:// and https:// image URLs are allowed.`, { index });
  }
  let res: Response;
  try {
    // public addresses only, checked at connect and on every redirect (FETCH_ALLOW admits more)
    res = await safeFetch(parsed, { signal: AbortSignal.timeout(limits.urlTimeoutMs) });
  } catch (err) {
    if (err instanceof GraftError) throw new GraftError(err.code, `${where}.url: ${err.message}`, { index });
    const reason = err instanceof Error && err.name === 'TimeoutError' ? `timed out after ${limits.urlTimeoutMs} ms` : String((err as Error).cause ?? err);
    throw new GraftError('download_failed', `${where}.url could not be downloaded: ${reason}.`, { index });
  }
  if (!res.ok || !res.body) {
    throw new GraftError('download_failed', `${where}.url answered HTTP ${res.status}.`, { index });
  }
  const chunks: Buffer[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (let part = await reader.read(); !part.done; part = await reader.read()) {
    total += part.value.byteLength;
    if (total > limits.maxImageBytes) {
      await reader.cancel().catch(() => {});
      throw new GraftError('payload_too_large', `${where}.url is larger than ${limits.maxImageBytes} bytes per image.`, { index });
    }
    chunks.push(Buffer.from(part.value));
  }
  return Buffer.concat(chunks);
}

/**
 * Decodes and preprocesses encoded images into one batch (n × size × size × 3, HWC, float32).
 * An image that is not a PNG/JPEG/WebP (or is too large) fails the request, naming its index.
 */
export async function decodeBatch(images: Buffer[], preprocessing: Preprocessing, limits: Pick<ImageInputLimits, 'maxImagePixels'>): Promise<Float32Array> {
  const decoded = await Promise.all(
    images.map(async (bytes, index) => {
      try {
        return await decodeImage(bytes, preprocessing, { maxPixels: limits.maxImagePixels });
      } catch (err) {
        // too many pixels keeps its own code; anything else is an item that is not an image (400, not
        // 415: the request's own media type was fine)
        if (err instanceof GraftError && err.code === 'image_too_large') throw new GraftError(err.code, `images[${index}]: ${err.message}`, { index });
        throw new GraftError('validation_error', `images[${index}] could not be decoded as an image (PNG, JPEG or WebP expected): ${(err as Error).message}`, { index });
      }
    }),
  );
  const per = preprocessing.imageSize * preprocessing.imageSize * 3;
  const batch = new Float32Array(per * decoded.length);
  decoded.forEach((pixels: Float32Array, i: number) => batch.set(pixels, i * per));
  return batch;
}

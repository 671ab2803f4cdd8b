// Is an extracted file an image we accept? Format by content (an allow-list: nothing else reaches an image
// decoder), size from the header before any pixel is decoded (a 20000×20000 PNG costs a few bytes to send),
// then — unless the caller's own decoder does it (the engine's one decode at the training size) — one real
// decode so that training never meets a truncated file.
import { open } from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
import { ErrorCode, GraftError } from '@graft/spec';
import { pngChunks, readIhdr } from './png-chunks.ts';

export const acceptedImageFormats = 'PNG, JPEG, WebP, GIF or TIFF';

type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp' | 'tiff';

/** A usable image's native size (from its header), or the reason to skip the file. */
export type ImageCheck = { width: number; height: number } | { reason: string };

/**
 * Checks a file on disk or its bytes in memory. `decode: false` stops after the header (the pixel limit is
 * enforced there, before any decoding); the caller's decoder must then refuse damaged data itself.
 * Throws image_too_large for an image above maxPixels: a deliberate bomb or an image the user must downscale.
 */
export async function checkImage(input: string | Buffer, entry: string, maxPixels: number, opts: { decode: boolean } = { decode: true }): Promise<ImageCheck> {
  const format = sniffImageFormat(typeof input === 'string' ? await readHead(input) : input.subarray(0, 12));
  if (!format) return { reason: `not a ${acceptedImageFormats} image` };
  let size = typeof input !== 'string' && format === 'png' ? plainPngSize(input) : null;
  if (!size) {
    let meta: Metadata;
    try {
      // No pixel limit here: sharp would refuse the header of a huge image, and we want to read it to say why.
      meta = await sharp(input, { limitInputPixels: false }).metadata();
    } catch (err) {
      return { reason: `the ${format.toUpperCase()} header cannot be read, the file is damaged or truncated (${(err as Error).message.trim()})` };
    }
    size = { width: meta.width ?? 0, height: meta.pageHeight ?? meta.height ?? 0 };
  }
  const { width, height } = size;
  if (width * height > maxPixels) {
    const mp = (n: number) => `${(n / 1e6).toFixed(n < 1e6 ? 2 : 1)} megapixels`;
    throw new GraftError(
      ErrorCode.imageTooLarge,
      `image '${entry}' is ${width}x${height} pixels (${mp(width * height)}), above the limit of ${mp(maxPixels)} per image; ` +
        'downscale it (training uses small images anyway) and upload the archive again',
    );
  }
  if (!opts.decode) return { width, height };
  try {
    // Shrinking to a thumbnail still decodes every byte of compressed data, without holding the full image.
    await sharp(input, { limitInputPixels: maxPixels, failOn: 'error' }).resize(16, 16, { fit: 'fill' }).raw().toBuffer();
  } catch (err) {
    return { reason: undecodableReason(format.toUpperCase(), err as Error) };
  }
  return { width, height };
}

/**
 * A PNG's size from a header libpng reads without a word: IHDR, at most pHYs, then the first IDAT's length and type,
 * every chunk before it whole with its CRC (pngChunks). sharp's header read costs ~0.25 ms of CPU and a thread-pool
 * round trip an image. Null for anything else (a palette, other chunks, a width beyond libpng's default limit):
 * sharp reads it and words any refusal, as before.
 */
function plainPngSize(bytes: Uint8Array): { width: number; height: number } | null {
  let size: { width: number; height: number } | null = null;
  for (const chunk of pngChunks(bytes)) {
    if (!size) {
      const ihdr = readIhdr(chunk);
      if (!ihdr || ihdr.colour === 3 || ihdr.width > 1_000_000 || ihdr.height > 1_000_000) return null;
      size = { width: ihdr.width, height: ihdr.height };
    } else if (chunk.type === 'IDAT') {
      return size; // libpng's header read stops at the pixel data
    } else if (chunk.type !== 'pHYs' || chunk.data?.length !== 9) {
      return null;
    }
  }
  return null;
}

/** Why an image whose header was fine cannot be used: its compressed data is damaged. */
export function undecodableReason(format: string, err: Error): string {
  return `the ${format} data cannot be decoded, the file is damaged or truncated (${err.message.trim()})`;
}

async function readHead(file: string): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(12);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The image format by its magic bytes (an allow-list), or null. */
export function sniffImageFormat(h: Uint8Array): ImageFormat | null {
  const at = (offset: number, ...bytes: number[]) => bytes.every((b, i) => h[offset + i] === b);
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png';
  if (at(0, 0xff, 0xd8, 0xff)) return 'jpeg';
  if (at(0, 0x47, 0x49, 0x46, 0x38)) return 'gif';
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'webp';
  if (at(0, 0x49, 0x49, 0x2a, 0x00) || at(0, 0x4d, 0x4d, 0x00, 0x2a)) return 'tiff';
  return null;
}

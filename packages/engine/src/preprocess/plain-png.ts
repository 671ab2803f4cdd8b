// The pixels of the plainest PNGs (8-bit grey or RGB, no alpha, not interlaced, no colour chunks), decoded in JS:
// a libvips pipeline costs ~0.8 ms of CPU to decode a 28 px PNG, zlib and the row filters ~0.05 ms. Anything this
// decoder does not vouch for returns null and goes to sharp as before, so every refusal stays libpng's own: a bad
// CRC, a truncated or over-long zlib stream, an unknown chunk, a size above the pixel limit.
import { crc32, inflateSync } from 'node:zlib';

export interface PlainPng {
  width: number;
  height: number;
  /** 1 (grey) or 3 (RGB) */
  channels: 1 | 3;
  /** rows of width × channels bytes */
  data: Uint8Array;
}

const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** ancillary chunks that change no pixel libvips produces: physical size, time, plain text (with their fixed lengths) */
const harmless: Record<string, number | null> = { pHYs: 9, tIME: 7, tEXt: null };

/** The decoded pixels, or null when the file is anything but a plain, intact PNG of at most `maxPixels`. */
export function decodePlainPng(bytes: Uint8Array, maxPixels: number): PlainPng | null {
  if (bytes.length < 8 || signature.some((b, i) => bytes[i] !== b)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0;
  let height = 0;
  let channels: 1 | 3 = 1;
  const idat: Uint8Array[] = [];
  let idatEnded = false;
  let ended = false;
  for (let at = 8, first = true; !ended; first = false) {
    if (at + 12 > bytes.length) return null;
    const length = view.getUint32(at);
    if (length > bytes.length - at - 12) return null;
    const type = String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!, bytes[at + 6]!, bytes[at + 7]!);
    const start = at + 8;
    const data = bytes.subarray(start, start + length);
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) !== view.getUint32(at + 8 + length)) return null;
    at += 12 + length;
    if (first !== (type === 'IHDR')) return null;
    if (type === 'IHDR') {
      if (length !== 13) return null;
      width = view.getUint32(start);
      height = view.getUint32(start + 4);
      const [depth, colour, compression, filter, interlace] = data.subarray(8, 13);
      if (depth !== 8 || (colour !== 0 && colour !== 2) || compression !== 0 || filter !== 0 || interlace !== 0) return null;
      if (width === 0 || height === 0 || width * height > maxPixels) return null;
      channels = colour === 0 ? 1 : 3;
    } else if (type === 'IDAT') {
      if (idatEnded) return null; // IDAT chunks must follow one another
      idat.push(data);
    } else if (type === 'IEND') {
      if (length !== 0 || at !== bytes.length) return null;
      ended = true;
    } else {
      if (!(type in harmless) || (harmless[type] !== null && harmless[type] !== length)) return null;
      if (idat.length > 0) idatEnded = true;
    }
  }
  if (idat.length === 0) return null;
  const stride = width * channels;
  const expected = height * (stride + 1);
  const compressed = idat.length === 1 ? idat[0]! : Buffer.concat(idat);
  let raw: Buffer;
  try {
    const inflated = inflateSync(compressed, { info: true, maxOutputLength: expected + 1 }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    // exactly the rows, and nothing after the zlib stream
    if (inflated.buffer.length !== expected || inflated.engine.bytesWritten !== compressed.length) return null;
    raw = inflated.buffer;
  } catch {
    return null;
  }
  const out = new Uint8Array(height * stride);
  const bpp = channels;
  for (let y = 0; y < height; y++) {
    const filterType = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? out[row + x - bpp]! : 0;
      const b = y > 0 ? out[prev + x]! : 0;
      const c = x >= bpp && y > 0 ? out[prev + x - bpp]! : 0;
      let v = raw[src + x]!;
      switch (filterType) {
        case 0:
          break;
        case 1:
          v += a;
          break;
        case 2:
          v += b;
          break;
        case 3:
          v += (a + b) >> 1;
          break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          return null;
      }
      out[row + x] = v & 0xff;
    }
  }
  return { width, height, channels, data: out };
}

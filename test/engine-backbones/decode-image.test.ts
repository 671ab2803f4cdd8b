// decodeImage (shared by training and /predict) and the seeded augmentation views.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { GraftError } from '@graft/spec';
import { decodeImage, decodeViews, type Preprocessing } from '../../packages/engine/src/preprocess/index.ts';
import { defaultPatterns, encodeImage, mulberry32, renderPattern } from '../support/images.ts';

const p = (imageSize: number, pixelRange: [number, number] = [0, 1], resize: 'cover' | 'fill' = 'cover'): Preprocessing => ({ imageSize, pixelRange, resize });

function range(a: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of a) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return [lo, hi];
}

/** Pixel (x, y) channel c of an HWC image of side s. */
const at = (img: Float32Array, s: number, x: number, y: number, c: number) => img[(y * s + x) * 3 + c];

test('PNG and JPEG of a real pattern decode to s×s×3 floats inside the pixel range', async () => {
  const raw = renderPattern(defaultPatterns[0], mulberry32(3), { size: 48 });
  for (const format of ['png', 'jpeg'] as const) {
    const file = await encodeImage(raw, 48, format);
    for (const pixelRange of [[0, 1], [-1, 1], [0, 255]] as [number, number][]) {
      const img = await decodeImage(file, p(32, pixelRange));
      assert.equal(img.length, 32 * 32 * 3);
      const [lo, hi] = range(img);
      assert.ok(lo >= pixelRange[0] && hi <= pixelRange[1], `${format} ${pixelRange}: ${lo}..${hi}`);
      assert.ok(hi - lo > 0.5 * (pixelRange[1] - pixelRange[0]), 'the pattern keeps its contrast');
    }
  }
});

test('grey and RGBA images become 3 equal / alpha-free channels with exact values', async () => {
  const grey = await sharp(Buffer.alloc(20 * 10, 51), { raw: { width: 20, height: 10, channels: 1 } }).png().toBuffer();
  const img = await decodeImage(grey, p(8, [-1, 1]));
  for (let i = 0; i < img.length; i++) assert.ok(Math.abs(img[i] - (51 / 255) * 2 + 1) < 1e-6);
  const rgba = await sharp({ create: { width: 16, height: 16, channels: 4, background: { r: 255, g: 0, b: 102, alpha: 0.3 } } }).png().toBuffer();
  const c = await decodeImage(rgba, p(4));
  // the colour itself, not blended with any background (within the rounding of sharp's alpha premultiplication)
  assert.deepEqual([at(c, 4, 1, 1, 0), at(c, 4, 1, 1, 1)], [1, 0]);
  assert.ok(Math.abs(at(c, 4, 1, 1, 2) - 0.4) < 0.02);
});

test("'cover' crops the centre, 'fill' stretches; EXIF orientation is applied", async () => {
  // 40×20: left half red, right half blue; cover keeps the middle 20×20 (half red, half blue), fill keeps both
  const wide = Buffer.alloc(40 * 20 * 3);
  for (let y = 0; y < 20; y++) for (let x = 0; x < 40; x++) wide[(y * 40 + x) * 3 + (x < 20 ? 0 : 2)] = 255;
  const png = await sharp(wide, { raw: { width: 40, height: 20, channels: 3 } }).png().toBuffer();
  const cover = await decodeImage(png, p(10, [0, 1], 'cover'));
  const fill = await decodeImage(png, p(10, [0, 1], 'fill'));
  assert.equal(at(cover, 10, 1, 5, 0), 1);
  assert.equal(at(cover, 10, 8, 5, 2), 1);
  assert.equal(at(fill, 10, 0, 5, 0), 1);
  // a JPEG stored sideways with EXIF orientation 6 (rotate 90° clockwise to view): red top becomes red right
  const tall = Buffer.alloc(20 * 40 * 3);
  for (let y = 0; y < 40; y++) for (let x = 0; x < 20; x++) tall[(y * 20 + x) * 3 + (y < 20 ? 0 : 2)] = 255;
  const jpeg = await sharp(tall, { raw: { width: 20, height: 40, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
  const upright = await decodeImage(jpeg, p(10, [0, 1], 'fill'));
  assert.ok(at(upright, 10, 9, 5, 0) > 0.8 && at(upright, 10, 0, 5, 2) > 0.8, 'rotated by its EXIF orientation');
});

test('undecodable and oversized images fail with a user-facing code', async () => {
  await assert.rejects(decodeImage(Buffer.from('not an image at all'), p(8)), (e: unknown) => e instanceof GraftError && e.code === 'unsupported_media_type');
  const big = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#808080' } }).png().toBuffer();
  await assert.rejects(decodeImage(big, p(8), { maxPixels: 10_000 }), (e: unknown) => e instanceof GraftError && e.code === 'image_too_large');
});

test('augmentation views: view 0 is the plain decode, the others differ and are the same for the same seed', async () => {
  const file = await encodeImage(renderPattern(defaultPatterns[3], mulberry32(5), { size: 64 }), 64, 'png');
  const plain = await decodeImage(file, p(32));
  const a = await decodeViews(file, p(32), { augmentViews: 3, seed: 11, index: 4 });
  const b = await decodeViews(file, p(32), { augmentViews: 3, seed: 11, index: 4 });
  const c = await decodeViews(file, p(32), { augmentViews: 3, seed: 12, index: 4 });
  assert.equal(a.length, 4);
  assert.deepEqual(a[0], plain);
  assert.deepEqual(a, b);
  for (let v = 1; v < 4; v++) {
    assert.notDeepEqual(a[v], plain);
    assert.notDeepEqual(a[v], c[v]);
    const [lo, hi] = range(a[v]);
    assert.ok(lo >= 0 && hi <= 1);
  }
});

// The fast path for small images (plain PNGs decoded in JS, squares enlarged together in one sharp pipeline) must
// give decodeImage's pixels exactly, and leave every file it does not vouch for to sharp.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32, deflateSync } from 'node:zlib';
import sharp, { type PngOptions } from 'sharp';
import { batchProcessor } from '../../packages/engine/src/activations/batch-processor.ts';
import { decodeImage, type Preprocessing } from '../../packages/engine/src/preprocess/index.ts';
import { decodePlainPng } from '../../packages/engine/src/preprocess/plain-png.ts';
import { defaultPatterns, mulberry32, renderPattern } from '../support/images.ts';

const pattern = (side: number, seed: number) => renderPattern(defaultPatterns[seed % defaultPatterns.length]!, mulberry32(seed), { size: side });
const png = (raw: Buffer, side: number, channels: 1 | 3 | 4, opts: PngOptions = {}) =>
  sharp(raw, { raw: { width: side, height: raw.length / side / channels, channels } }).png(opts).toBuffer();
const grey = (rgb: Buffer) => Buffer.from(rgb.filter((_, i) => i % 3 === 0));

test('plain grey and RGB PNGs decode in JS to the bytes libpng gives; anything else is left to sharp', async () => {
  for (const [side, channels] of [[28, 1], [28, 3], [17, 3], [40, 1]] as const) {
    const raw = channels === 1 ? grey(pattern(side, side)) : pattern(side, side);
    for (const opts of [{}, { compressionLevel: 0 }, { adaptiveFiltering: true }]) {
      const file = await png(raw, side, channels, opts);
      const decoded = decodePlainPng(file, 1e6);
      assert.ok(decoded, `${side} px, ${channels} channel(s) ${JSON.stringify(opts)}`);
      assert.deepEqual(Buffer.from(decoded.data), await sharp(file).raw().toBuffer());
    }
  }
  const rgb = pattern(28, 1);
  const file = await png(rgb, 28, 3);
  const rgba = Buffer.alloc(28 * 28 * 4, 200);
  const badCrc = Buffer.from(file);
  badCrc[badCrc.length - 20] ^= 1; // inside the last IDAT
  const refused = {
    'alpha channel': await png(rgba, 28, 4),
    'interlaced': await sharp(rgb, { raw: { width: 28, height: 28, channels: 3 } }).png({ progressive: true }).toBuffer(),
    'palette': await sharp(rgb, { raw: { width: 28, height: 28, channels: 3 } }).png({ palette: true }).toBuffer(),
    '16-bit': await sharp(rgb, { raw: { width: 28, height: 28, channels: 3 } }).toColourspace('rgb16').png().toBuffer(),
    'truncated': file.subarray(0, file.length >> 1),
    'a bad CRC': badCrc,
    'a JPEG': await sharp(rgb, { raw: { width: 28, height: 28, channels: 3 } }).jpeg().toBuffer(),
  };
  for (const [what, bytes] of Object.entries(refused)) assert.equal(decodePlainPng(bytes, 1e6), null, what);
  assert.equal(decodePlainPng(file, 28 * 28 - 1), null, 'above the pixel limit');
  // a zlib stream with more rows than the header says (the IHDR chunk is the file's bytes 8–32)
  const long = Buffer.concat([file.subarray(0, 33), chunk('IDAT', deflateSync(Buffer.alloc(29 * (28 * 3 + 1)))), chunk('IEND', Buffer.alloc(0))]);
  assert.equal(decodePlainPng(long, 1e6), null, 'too much image data');
});

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

test('a batch of small and other images gets exactly decodeImage pixels, damaged ones still reported', async () => {
  const images: Buffer[] = [];
  for (let i = 0; i < 5; i++) images.push(await png(grey(pattern(28, i)), 28, 1));
  for (let i = 0; i < 3; i++) images.push(await png(pattern(28, 10 + i), 28, 3));
  images.push(await png(pattern(20, 7), 20, 3)); // another side: its own group
  images.push(await png(pattern(120, 8), 120, 3)); // larger than the training size: alone
  images.push(await png(pattern(40, 9).subarray(0, 40 * 30 * 3), 40, 3)); // not square: alone
  images.push(await sharp(pattern(28, 5), { raw: { width: 28, height: 28, channels: 3 } }).jpeg().toBuffer());
  const whole = await png(pattern(28, 3), 28, 3);
  images.push(whole.subarray(0, whole.length - 40)); // truncated: sharp finds it, as before
  for (const imageSize of [96, 224]) {
    const p: Preprocessing = { imageSize, pixelRange: [-1, 1], resize: 'cover' };
    const runner = { outputShape: [1], run: async () => new Float32Array(0), dispose() {} };
    const batch = await batchProcessor(runner, p).decode(images, images.map((_, i) => `image ${i}`), 0, { augmentViews: 0, seed: 0 });
    const n = imageSize * imageSize * 3;
    assert.deepEqual(batch.undecodable.map((u) => u.index), [images.length - 1]);
    assert.match(batch.undecodable[0]!.reason, /PNG data cannot be decoded, the file is damaged or truncated/);
    for (let i = 0; i < images.length - 1; i++) {
      assert.deepEqual(batch.views[0]!.subarray(i * n, (i + 1) * n), await decodeImage(images[i]!, p), `image ${i} at ${imageSize} px`);
    }
  }
});

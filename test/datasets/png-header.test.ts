// A PNG kept in memory is sized from its header in JS when libpng would read that header without a word; the
// answer (size, reason to skip, refusal) must be the one sharp gives for the same bytes on disk.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { checkImage } from '../../packages/datasets/src/image-check.ts';
import { pngClaiming } from '../support/archives.ts';
import { scratch, type Scratch } from '../support/dataset-cases.ts';

let s: Scratch;
before(async () => (s = await scratch()));
after(() => s.cleanup());

const outcome = (input: string | Buffer) =>
  checkImage(input, 'x.png', 50_000_000, { decode: false }).then(
    (r) => JSON.stringify(r),
    (e: Error) => `refused: ${e.message}`,
  );

test('in memory and on disk, every PNG gets the same size or the same refusal', async () => {
  const rgb = Buffer.alloc(28 * 20 * 3).map((_, i) => (i * 37) % 256);
  const img = () => sharp(rgb, { raw: { width: 28, height: 20, channels: 3 } });
  const plain = await img().png().toBuffer();
  const badIhdrCrc = Buffer.from(plain);
  badIhdrCrc[29] ^= 1;
  const cases: Record<string, Buffer> = {
    'grey': await img().toColourspace('b-w').png().toBuffer(),
    'RGB': plain,
    'RGBA': await img().ensureAlpha().png().toBuffer(),
    '16-bit': await img().toColourspace('rgb16').png().toBuffer(),
    'interlaced': await img().png({ progressive: true }).toBuffer(),
    'palette': await img().png({ palette: true }).toBuffer(),
    'with a profile': await img().withIccProfile('srgb').png().toBuffer(),
    'truncated halfway': plain.subarray(0, plain.length >> 1),
    'headless': plain.subarray(0, 30),
    'a bad IHDR CRC': badIhdrCrc,
    'a pixel bomb': pngClaiming(20000, 20000),
  };
  for (const [what, bytes] of Object.entries(cases)) {
    // sharp says 'Input file' for a path where it says 'Input buffer' for bytes
    const onDisk = (await outcome(await s.file(`${what}.png`, bytes))).replace('Input file', 'Input buffer');
    assert.equal(await outcome(bytes), onDisk, what);
  }
  assert.equal(await outcome(plain), JSON.stringify({ width: 28, height: 20 }));
});

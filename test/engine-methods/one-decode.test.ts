// A dataset prepared for training keeps its images in memory, checked by header only; the engine's prefix pass
// is their one decode. The run must be the same as from files on disk, and damaged data found by that decode is
// skipped with the reason a dataset check would have given.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { prepareDataset, type ImageDataset } from '@graft/datasets';
import { train } from '../../packages/engine/src/train.ts';
import { makeImageFolderFiles, zipEntries } from '../support/images.ts';
import { twoClasses } from './fixtures.ts';

const hyperparameters = { imageSize: 32, epochs: 2, batchSize: 8, seed: 3, trainableBlocks: 1, augment: false };
let dir: string;
let files: Map<string, Buffer>;
let n = 0;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'graft-one-decode-'));
  files = await makeImageFolderFiles({ patterns: twoClasses, perClass: 8, size: 32, seed: 4 });
});
after(() => rm(dir, { recursive: true, force: true }));

async function prepare(entries: Map<string, Buffer>, inMemory: boolean): Promise<ImageDataset> {
  const archivePath = path.join(dir, `ds${n}.zip`);
  await writeFile(archivePath, await zipEntries(entries));
  return prepareDataset(
    { archivePath },
    { destDir: path.join(dir, `ds${n++}`), requireLabels: true, ...(inMemory ? { decodeInEngine: { maxInMemoryBytes: 1 << 26 } } : {}) },
  );
}

test('images decoded from memory train exactly like the same images from disk', async () => {
  const run = async (ds: ImageDataset) => {
    const m = await train({ method: 'fine_tune', target: ds, hyperparameters });
    m.dispose();
    return { epochs: m.epochs, evaluation: m.evaluation };
  };
  const inMemory = await prepare(files, true);
  assert.ok(inMemory.items.every((i) => i.data));
  assert.deepEqual(await run(inMemory), await run(await prepare(files, false)));
});

test('an image whose data is damaged behind a sound header is skipped by the one decode, with the reason', async () => {
  const damaged = new Map(files);
  const whole = files.get('red_square/000.png')!;
  damaged.set('red_square/truncated.png', whole.subarray(0, whole.length >> 1));
  const ds = await prepare(damaged, true);
  assert.equal(ds.items.length, 17, 'the header check lets it through');
  const m = await train({ method: 'fine_tune', target: ds, hyperparameters });
  m.dispose();
  const skipped = ds.skipped.find((e) => e.entry === 'red_square/truncated.png');
  assert.ok(skipped, JSON.stringify(ds.skipped));
  assert.match(skipped.reason, /PNG data cannot be decoded, the file is damaged or truncated/);
  assert.equal(m.evaluation.perClass.reduce((a, c) => a + c.support, 0) <= 16, true);
});

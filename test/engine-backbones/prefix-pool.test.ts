// One prefix pool serves every image set of a run: its worker threads boot once, and each set (with its own
// augmentation views and seed) comes out exactly as a one-shot computePrefixActivations in the calling thread;
// a cancelled set leaves the pool usable for the next one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GraftError } from '@graft/spec';
import { loadBackbone, type Backbone } from '../../packages/engine/src/backbones/index.ts';
import { computePrefixActivations, openPrefixPool } from '../../packages/engine/src/activations/index.ts';
import type { Preprocessing } from '../../packages/engine/src/preprocess/index.ts';
import { writeImageFolder } from '../support/images.ts';

let dir: string;
let files: string[];
let backbone: Backbone;
const preprocessing: Preprocessing = { imageSize: 64, pixelRange: [0, 1], resize: 'cover' };

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'graft-prefix-pool-'));
  await writeImageFolder(dir, { perClass: 4, size: 48, format: 'png' });
  files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.png')).map((f) => path.join(dir, f)).sort();
  backbone = await loadBackbone('mobilenet_v2', { imageSize: 64 });
});

after(async () => {
  backbone.dispose();
  await rm(dir, { recursive: true, force: true });
});

test('one pool of 2 workers computes several sets, each exactly as a one-shot in-thread computation', async () => {
  const { prefix } = backbone.split(2);
  const sets = [
    { files: files.slice(0, 7), augmentViews: 1, seed: 3 },
    { files: files.slice(7), augmentViews: 0, seed: 0 },
    { files: [], augmentViews: 0, seed: 0 },
    { files: files.slice(2, 9), augmentViews: 2, seed: 5 },
  ];
  // the runner spec may arrive after the workers started (train.ts hands over the pending ONNX export)
  const pool = openPrefixPool({ prefix, preprocessing, threads: 2, batchSize: 2, runner: Promise.resolve(null) });
  try {
    for (const set of sets) {
      const pooled = await pool.compute(set);
      const alone = await computePrefixActivations({ prefix, preprocessing, threads: 1, batchSize: 3, ...set });
      assert.equal(pooled.count, set.files.length);
      assert.deepEqual(pooled.shape, [2, 2, 160]);
      assert.equal(pooled.views.length, set.augmentViews + 1);
      pooled.views.forEach((v, i) => assert.deepEqual(v, alone.views[i], `view ${i} of a set of ${set.files.length}`));
    }
  } finally {
    await pool.close();
  }
});

test('a cancelled set fails with GraftError cancelled and the next set still comes out right', async () => {
  const { prefix } = backbone.split(2);
  const pool = openPrefixPool({ prefix, preprocessing, threads: 2, batchSize: 1 });
  try {
    const ac = new AbortController();
    await assert.rejects(
      pool.compute({ files, signal: ac.signal, onProgress: () => ac.abort() }),
      (e: unknown) => e instanceof GraftError && e.code === 'cancelled',
    );
    const next = await pool.compute({ files: files.slice(0, 3) });
    const alone = await computePrefixActivations({ prefix, preprocessing, threads: 1, files: files.slice(0, 3) });
    assert.deepEqual(next.views[0], alone.views[0]);
  } finally {
    await pool.close();
  }
});

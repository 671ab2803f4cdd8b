// The frozen-prefix activation cache over real image files: same numbers from 2 worker threads as
// from the calling thread, one row per image and view, progress reported, cancellation honoured.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { GraftError } from '@graft/spec';
import { loadBackbone, type Backbone } from '../../packages/engine/src/backbones/index.ts';
import { computePrefixActivations } from '../../packages/engine/src/activations/index.ts';
import { decodeImage, type Preprocessing } from '../../packages/engine/src/preprocess/index.ts';
import { writeImageFolder } from '../support/images.ts';

let dir: string;
let files: string[];
let backbone: Backbone;
const size = 64;
const preprocessing: Preprocessing = { imageSize: size, pixelRange: [0, 1], resize: 'cover' };

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'graft-activations-'));
  await writeImageFolder(dir, { perClass: 6, size: 48, format: 'jpeg' });
  files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.jpg')).map((f) => path.join(dir, f)).sort();
  backbone = await loadBackbone('mobilenet_v2', { imageSize: size });
});

after(async () => {
  backbone.dispose();
  await rm(dir, { recursive: true, force: true });
});

test('2 worker threads give exactly the activations of 1 thread, per image and augmentation view', async () => {
  const { prefix } = backbone.split(2);
  const progress: number[] = [];
  const one = await computePrefixActivations({ prefix, files, preprocessing, augmentViews: 2, seed: 3, threads: 1, batchSize: 4, onProgress: (f) => progress.push(f) });
  const two = await computePrefixActivations({ prefix, files, preprocessing, augmentViews: 2, seed: 3, threads: 2, batchSize: 4 });
  assert.deepEqual(one.shape, [2, 2, 160]);
  assert.equal(one.count, files.length);
  assert.equal(one.views.length, 3);
  for (let v = 0; v < 3; v++) {
    assert.equal(one.views[v].length, files.length * 2 * 2 * 160);
    assert.deepEqual(two.views[v], one.views[v], `view ${v}`);
  }
  assert.notDeepEqual(one.views[1], one.views[0], 'augmented views differ from the plain one');
  assert.equal(progress.at(-1), 1);
  assert.ok(progress.every((f, i) => i === 0 || f >= progress[i - 1]));

  // row i of view 0 is the prefix applied to decodeImage(file i): the cache is what training would compute
  const i = 5;
  const x = tf.tensor4d(await decodeImage(files[i], preprocessing), [1, size, size, 3]);
  const direct = (prefix!.predict(x) as tf.Tensor).dataSync();
  const row = one.views[0].subarray(i * direct.length, (i + 1) * direct.length);
  assert.ok(direct.every((d, j) => Math.abs(d - row[j]) <= 1e-4));
  x.dispose();
});

test('no prefix (whole network trains): the cache holds the preprocessed images; 0 blocks: pooled features', async () => {
  const images = await computePrefixActivations({ prefix: null, files: files.slice(0, 3), preprocessing, threads: 1 });
  assert.deepEqual(images.shape, [size, size, 3]);
  assert.deepEqual(images.views[0].subarray(0, size * size * 3), await decodeImage(files[0], preprocessing));
  const features = await computePrefixActivations({ prefix: backbone.split(0).prefix, files: files.slice(0, 3), preprocessing, threads: 2, batchSize: 2 });
  assert.deepEqual(features.shape, [1280]);
});

test('an aborted signal stops the computation with GraftError cancelled, in-thread and in workers', async () => {
  const { prefix } = backbone.split(2);
  for (const threads of [1, 2]) {
    const ac = new AbortController();
    const run = computePrefixActivations({ prefix, files, preprocessing, threads, batchSize: 2, signal: ac.signal, onProgress: () => ac.abort() });
    await assert.rejects(run, (e: unknown) => e instanceof GraftError && e.code === 'cancelled');
  }
});

test('an undecodable file fails with its name in the message', async () => {
  const { prefix } = backbone.split(2);
  const bad = path.join(dir, 'broken.jpg');
  await (await import('node:fs/promises')).writeFile(bad, 'not a jpeg');
  await assert.rejects(
    computePrefixActivations({ prefix, files: [files[0], bad], preprocessing, threads: 1 }),
    (e: unknown) => e instanceof GraftError && e.code === 'unsupported_media_type' && e.message.includes('broken.jpg'),
  );
});

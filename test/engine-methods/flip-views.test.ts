// flipViews: feature_extraction's probe trains on each image's mirror too and the served model averages the
// probabilities of the image and its mirror, when the probe's own cross-validation says mirrors help (or the
// user asks). Checked on small real images: classes that are each other's mirror (where mirrors are wrong), the
// verdict and its why recorded and repeatable, and a mirrored served model that reproduces the evaluation, is
// mirror-invariant, reloads from its checkpoint, and exports to ONNX within 1e-4.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { createOnnxRunner, exportToOnnx } from '@graft/onnx';
import { prepareDataset, type ImageDataset } from '@graft/datasets';
import { train } from '../../packages/engine/src/train.ts';
import { loadCheckpoint } from '../../packages/engine/src/checkpoint/checkpoint-files.ts';
import { decodeImage } from '../../packages/engine/src/preprocess/index.ts';
import { mirrorPixels } from '../../packages/engine/src/preprocess/augment.ts';
import { computePrefixActivations } from '../../packages/engine/src/activations/index.ts';
import type { HyperparameterChoices } from '../../packages/engine/src/methods/data-aware-defaults.ts';
import { makeImageFolderFiles, zipEntries } from '../support/images.ts';
import { DatasetFactory, twoClasses } from './fixtures.ts';

const imageSize = 32;
let root: string;
let data: DatasetFactory;
/** diagonal stripes one way, and the same images mirrored: a mirror turns one class into the other */
let mirroredClasses: ImageDataset;
let target: ImageDataset;
let validation: ImageDataset;

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'graft-flip-test-'));
  const stripes = await makeImageFolderFiles({ patterns: [{ name: 'rising', color: [40, 60, 220], shape: 'stripes' }], perClass: 12, size: 40, seed: 31 });
  const files = new Map(stripes);
  for (const [name, png] of stripes) files.set(name.replace('rising/', 'falling/'), await sharp(png).flop().png().toBuffer());
  await writeFile(path.join(root, 'mirrored.zip'), await zipEntries(files));
  mirroredClasses = await prepareDataset({ archivePath: path.join(root, 'mirrored.zip') }, { destDir: path.join(root, 'mirrored'), requireLabels: true });
  data = await DatasetFactory.create();
  target = await data.make({ patterns: twoClasses, perClass: 12, size: 40, seed: 21 });
  validation = await data.make({ patterns: twoClasses, perClass: 4, size: 40, seed: 22 });
});
after(async () => {
  await rm(root, { recursive: true, force: true });
  await data.cleanup();
});

test('flipViews by default on classes that are mirrors of each other: cross-validation refuses mirrors, says why with both scores, and repeats', async () => {
  const reported: HyperparameterChoices[] = [];
  const run = () => train({ method: 'feature_extraction', target: mirroredClasses, hyperparameters: { imageSize, seed: 7 }, onHyperparameters: (c) => void reported.push(c) });
  const m = await run();
  try {
    const flip = m.metadata.resolvedHyperparameters!.flipViews;
    assert.equal(flip.value, false, flip.why);
    assert.match(flip.why, /5-fold cross-validation.*log-loss [\d.]+, accuracy [\d.]+ with mirrors against log-loss [\d.]+, accuracy [\d.]+ without/);
    assert.equal(m.metadata.hyperparameters.flipViews, false, 'the hyper-parameters that repeat the run carry the verdict');
    // recorded at start as to be judged, then replaced by the verdict
    assert.match(reported[0].flipViews.why, /cross-validation keeps them only if/);
    assert.deepEqual(reported.at(-1)!.flipViews, flip);
    assert.ok(!m.model.layers.some((l) => l.name === 'graft_mirror'), 'no mirror in the served model');
    assert.ok(m.evaluation.accuracy >= 0.8, `accuracy ${m.evaluation.accuracy}`);
    const again = await run();
    try {
      assert.deepEqual([again.epochs, again.evaluation, again.metadata.resolvedHyperparameters], [m.epochs, m.evaluation, m.metadata.resolvedHyperparameters], 'the same seed, the same verdict and metrics');
    } finally {
      again.dispose();
    }
  } finally {
    m.dispose();
  }
});

test('flipViews set by the user: kept, and the mirrored served model reproduces the evaluation, is mirror-invariant, reloads, and exports to ONNX within 1e-4', async () => {
  const m = await train({ method: 'feature_extraction', target, validation, hyperparameters: { imageSize, seed: 3, flipViews: true } });
  const dir = await mkdtemp(path.join(tmpdir(), 'graft-flip-model-'));
  try {
    assert.deepEqual(m.metadata.resolvedHyperparameters!.flipViews, { value: true, why: 'set by you' });
    assert.ok(m.model.layers.some((l) => l.name === 'graft_mirror'), 'the served model holds the mirror');
    const p = m.metadata.preprocessing;
    const s = p.imageSize;
    const pixels = await Promise.all(validation.items.map((it) => decodeImage(it.file, p)));
    const n = pixels.length;
    const batch = new Float32Array(n * s * s * 3);
    const mirrored = new Float32Array(n * s * s * 3);
    pixels.forEach((x, i) => {
      batch.set(x, i * s * s * 3);
      mirrored.set(mirrorPixels(x, s), i * s * s * 3);
    });
    const predict = (model: tf.LayersModel, x: Float32Array) => tf.tidy(() => (model.predict(tf.tensor4d(x, [n, s, s, 3])) as tf.Tensor).dataSync() as Float32Array);
    const served = predict(m.model, batch);
    const k = m.labels.length;
    const correct = validation.items.filter((it, i) => m.labels[argMax(served.subarray(i * k, (i + 1) * k))] === it.label).length;
    assert.equal(correct / n, m.evaluation.accuracy, 'the served model scores as the training-time evaluation did');
    const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((d, v, i) => Math.max(d, Math.abs(v - b[i])), 0);
    assert.ok(maxDiff(served, predict(m.model, mirrored)) < 1e-5, 'an image and its mirror get the same probabilities');

    await m.save(dir);
    const reloaded = await loadCheckpoint(dir);
    try {
      assert.ok(maxDiff(served, predict(reloaded.model, batch)) < 1e-6, 'the checkpoint reloads with plain TF.js layers');
    } finally {
      reloaded.model.dispose();
    }

    const bytes = exportToOnnx(m.model);
    const runner = await createOnnxRunner(bytes);
    assert.ok(runner, 'ONNX Runtime loads here');
    const onnx = await runner.run(batch, n);
    await runner.dispose();
    assert.ok(maxDiff(served, onnx) < 1e-4, `ONNX export differs from the served model by ${maxDiff(served, onnx)}`);
    // the backbone runs on the image and on its mirror, its weights stored once
    const unmirrored = await train({ method: 'feature_extraction', target, validation, hyperparameters: { imageSize, seed: 3, flipViews: false } });
    const plain = exportToOnnx(unmirrored.model);
    unmirrored.dispose();
    assert.ok(bytes.length < plain.length * 1.05, `${bytes.length} bytes with the mirror against ${plain.length} without`);
  } finally {
    m.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});

test("the mirror view is the flop of each image's one decode: small PNGs enlarged together, JPEGs alone, in threads", async () => {
  const png = [...(await makeImageFolderFiles({ patterns: twoClasses, perClass: 3, size: 24, seed: 5 })).values()];
  const jpeg = [...(await makeImageFolderFiles({ patterns: twoClasses, perClass: 2, size: 40, seed: 6, format: 'jpeg' })).values()];
  const files = [...png, ...jpeg];
  const preprocessing = { imageSize, pixelRange: [-1, 1] as [number, number], resize: 'cover' as const };
  const pixels = imageSize * imageSize * 3;
  for (const threads of [1, 2]) {
    const images = await computePrefixActivations({ prefix: null, files, preprocessing, mirror: true, threads, batchSize: 4 });
    assert.equal(images.views.length, 2);
    for (let i = 0; i < files.length; i++) {
      const plain = images.views[0].subarray(i * pixels, (i + 1) * pixels);
      assert.deepEqual(plain, await decodeImage(files[i], preprocessing));
      assert.deepEqual(images.views[1].subarray(i * pixels, (i + 1) * pixels), mirrorPixels(plain, imageSize), `image ${i}, ${threads} thread(s)`);
    }
  }
});

test('flipViews is feature_extraction only', async () => {
  await assert.rejects(train({ method: 'fine_tune', target, hyperparameters: { imageSize, flipViews: true } }), /flipViews is for feature_extraction/);
});

function argMax(p: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
  return best;
}

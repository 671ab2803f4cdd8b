// ResNet-50 and VGG-16 as registered backbones. No pretrained weights exist offline, so each is built with
// RANDOM weights at 64 px, saved as a TF.js layers model.json the way the operator would provide a
// converted keras.applications model, configured by its env var, and then used as a user would: listed by
// GET /backbones, loaded, cut at its blocks, exported to ONNX, trained (fine_tune, feature_extraction) and
// served through POST /predict.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { createOnnxRunner, exportToOnnx } from '@graft/onnx';
import { GraftError } from '@graft/spec';
import { listBackbones, loadBackbone } from '../../packages/engine/src/backbones/index.ts';
import { resnet50, vgg16 } from '../../packages/engine/src/backbones/keras-applications.ts';
import { folderSaveHandler } from '../../packages/engine/src/checkpoint/index.ts';
import { initBackend } from '../../packages/engine/src/runtime/backend.ts';
import { decodeImage } from '../../packages/engine/src/preprocess/index.ts';
import { train } from '../../packages/engine/src/train.ts';
import { startTestApi } from '../support/api.ts';
import { seedServedJob } from '../support/served-job.ts';
import { DatasetFactory, twoClasses } from '../engine-methods/fixtures.ts';
import { maxAbsDiff } from '../support/numbers.ts';
import type { ImageDataset } from '@graft/datasets';

const SIZE = 64;
const architectures = { resnet50: { build: resnet50, env: 'GRAFT_RESNET50_URL', featureDim: 2048, blocks: 17 }, vgg16: { build: vgg16, env: 'GRAFT_VGG16_URL', featureDim: 512, blocks: 5 } };
type Id = keyof typeof architectures;

let dir: string;
let data: DatasetFactory;
let target: ImageDataset;
const references = new Map<Id, tf.LayersModel>();

/** Caffe-range random images (BGR minus the ImageNet mean lies in about −124…151). */
const caffeImages = (n: number) => tf.randomUniform([n, SIZE, SIZE, 3], -120, 150, 'float32', 7) as tf.Tensor4D;

before(async () => {
  await initBackend();
  dir = await mkdtemp(path.join(tmpdir(), 'graft-keras-apps-'));
  for (const [id, a] of Object.entries(architectures) as [Id, (typeof architectures)[Id]][]) {
    // what the operator points the env var at: model.json + weights.bin of the architecture
    const { model } = a.build(SIZE);
    await model.save(folderSaveHandler(path.join(dir, id)));
    references.set(id, model);
    process.env[a.env] = pathToFileURL(path.join(dir, id, 'model.json')).href;
  }
  data = await DatasetFactory.create();
  target = await data.make({ patterns: twoClasses, perClass: 4, size: 48, seed: 9 });
});

after(async () => {
  for (const m of references.values()) m.dispose();
  for (const a of Object.values(architectures)) delete process.env[a.env];
  await data.cleanup();
  await rm(dir, { recursive: true, force: true });
});

test('without their env var, resnet50 and vgg16 are listed as unavailable with what to set, and refuse to load', async () => {
  const saved = process.env.GRAFT_RESNET50_URL;
  delete process.env.GRAFT_RESNET50_URL;
  try {
    const listed = listBackbones().find((b) => b.id === 'resnet50')!;
    assert.equal(listed.available, false);
    assert.match(listed.unavailableReason!, /weights not configured: set GRAFT_RESNET50_URL/);
    await assert.rejects(loadBackbone('resnet50', { imageSize: SIZE }), (e: unknown) => e instanceof GraftError && /set GRAFT_RESNET50_URL/.test(e.message));
  } finally {
    process.env.GRAFT_RESNET50_URL = saved;
  }
  assert.equal(listBackbones().find((b) => b.id === 'resnet50')!.available, true);
});

for (const id of Object.keys(architectures) as Id[]) {
  const a = architectures[id];
  test(`${id}: the configured weights load by Keras layer name; split at every block end and ONNX export give the same features`, async () => {
    const listed = listBackbones().find((b) => b.id === id)!;
    assert.equal(listed.available, true);
    assert.equal(listed.preprocessing, 'caffe');
    const b = await loadBackbone(id, { imageSize: SIZE });
    const x = caffeImages(2);
    try {
      assert.equal(b.info.featureDim, a.featureDim);
      assert.equal(b.info.blocks, a.blocks);
      const features = (b.model.predict(x) as tf.Tensor).dataSync();
      const reference = (references.get(id)!.predict(x) as tf.Tensor).dataSync();
      const loaded = maxAbsDiff(features, reference);
      assert.ok(loaded.scale > 0 && loaded.diff <= 1e-5 * loaded.scale, `loaded weights: ${loaded.diff} of ${loaded.scale}`);
      for (const k of [1, 2, 'all'] as const) {
        const { prefix, suffix } = b.split(k);
        const out = (suffix.predict(prefix ? (prefix.predict(x) as tf.Tensor) : x) as tf.Tensor).dataSync();
        const split = maxAbsDiff(out, features);
        assert.ok(split.diff <= 1e-5 * split.scale, `split(${k}): ${split.diff}`);
      }
      const runner = await createOnnxRunner(exportToOnnx(b.model));
      assert.ok(runner, 'ONNX Runtime loads here');
      const onnx = await runner.run(x.dataSync() as Float32Array, 2);
      await runner.dispose();
      const exported = maxAbsDiff(onnx, features);
      console.log(`# ${id}@${SIZE}: features up to ${exported.scale.toFixed(3)}, ONNX max abs diff ${exported.diff.toExponential(2)}`);
      assert.ok(exported.diff <= 1e-4 * Math.max(1, exported.scale), `ONNX features differ by ${exported.diff} (scale ${exported.scale})`);
    } finally {
      x.dispose();
      b.dispose();
    }
  });
}

test('weights of another architecture are refused, naming the missing weight', async () => {
  const saved = process.env.GRAFT_VGG16_URL;
  process.env.GRAFT_VGG16_URL = process.env.GRAFT_RESNET50_URL;
  try {
    await assert.rejects(loadBackbone('vgg16', { imageSize: SIZE }), (e: unknown) => e instanceof GraftError && /no weight block1_conv1\/kernel/.test(e.message));
  } finally {
    process.env.GRAFT_VGG16_URL = saved;
  }
});

const api = await startTestApi();

test('GET /backbones says resnet50 and vgg16 are available once configured; their preprocessing is caffe', async () => {
  const res = await api.http.get('/backbones').expect(200);
  for (const id of Object.keys(architectures)) {
    const b = res.body.items.find((i: { id: string }) => i.id === id);
    assert.equal(b.available, true, id);
    assert.equal(b.preprocessing, 'caffe');
  }
});

// every method runs on one of the two (both fine_tune); the suite's time is shared
for (const [id, method] of [['resnet50', 'fine_tune'], ['vgg16', 'fine_tune'], ['vgg16', 'feature_extraction']] as const) {
  test(`${id} ${method} trains on caffe pixels at ${SIZE} px and POST /predict serves the checkpoint`, async () => {
    const hp = method === 'fine_tune' ? { imageSize: SIZE, epochs: 1, batchSize: 4, augment: false, seed: 1 } : { imageSize: SIZE, seed: 1 };
    const m = await train({ method, backbone: id, target, hyperparameters: hp });
    const ckpt = await mkdtemp(path.join(tmpdir(), 'graft-keras-ckpt-'));
    try {
      assert.equal(m.metadata.backbone.id, id);
      assert.equal(m.metadata.preprocessing.normalization?.channelOrder, 'bgr');
      assert.ok(Number.isFinite(m.epochs.at(-1)?.loss ?? m.evaluation.accuracy));
      await m.save(ckpt);
      const files = new Map<string, Buffer>();
      for (const name of await readdir(ckpt)) files.set(name, await readFile(path.join(ckpt, name)));
      const job = await seedServedJob(api, { checkpoint: { files, model: m.model, labels: m.labels, imageSize: SIZE } });
      const image = await readFile(target.items[0].file);
      const res = await api.http.post('/predict').send({ jobId: job.id, images: [image.toString('base64')] }).expect(200);
      // /predict decodes with the checkpoint's caffe preprocessing: its scores are the model's on those pixels
      const x = tf.tensor4d(await decodeImage(image, m.metadata.preprocessing), [1, SIZE, SIZE, 3]);
      const probabilities = (m.model.predict(x) as tf.Tensor).dataSync();
      x.dispose();
      for (const { label, score } of res.body.predictions[0].topK as { label: string; score: number }[]) {
        assert.ok(Math.abs(score - probabilities[m.labels.indexOf(label)]) < 1e-4, `${label}: served ${score}, model ${probabilities[m.labels.indexOf(label)]}`);
      }
    } finally {
      m.dispose();
      await rm(ckpt, { recursive: true, force: true });
    }
  });
}

test('resnet50 multi_task and vgg16 domain_adaptation train at 64 px on their caffe pixels', async () => {
  const source = await data.make({ patterns: twoClasses, perClass: 4, size: 48, seed: 10 });
  for (const [id, method] of [['resnet50', 'multi_task'], ['vgg16', 'domain_adaptation']] as const) {
    const m = await train({ method, backbone: id, target, source, hyperparameters: { imageSize: SIZE, epochs: 1, batchSize: 4, seed: 2 } });
    try {
      assert.equal(m.metadata.backbone.id, id);
      assert.equal(m.metadata.preprocessing.normalization?.channelOrder, 'bgr');
      assert.ok(m.epochs.length === 1 && Number.isFinite(m.epochs[0].loss), `${id} ${method}: ${JSON.stringify(m.epochs)}`);
    } finally {
      m.dispose();
    }
  }
});

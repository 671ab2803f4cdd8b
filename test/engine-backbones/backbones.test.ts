// The registered pretrained backbones: they load offline, give features of the stated size at other
// image sizes than their native one, keep the packaged network's function, and split at block ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { GraftError } from '@graft/spec';
import { loadBackbone, listBackbones, type Backbone } from '../../packages/engine/src/backbones/index.ts';
import { readNsfwjsModel } from '../../packages/engine/src/backbones/nsfwjs-loader.ts';
import { decoderPreprocessing } from '../../packages/engine/src/preprocess/index.ts';
import { mulberry32 } from '../support/images.ts';

function randomImages(n: number, size: number, seed: number): tf.Tensor4D {
  const r = mulberry32(seed);
  return tf.tensor4d(Float32Array.from({ length: n * size * size * 3 }, () => r()), [n, size, size, 3]);
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** split(k) prefix -> suffix must compute exactly what the whole model computes. */
function assertSplitEqualsWhole(b: Backbone, x: tf.Tensor4D, k: number | 'all') {
  const whole = b.model.predict(x) as tf.Tensor;
  const { prefix, suffix } = b.split(k);
  const mid = prefix ? (prefix.predict(x) as tf.Tensor) : x;
  const out = suffix.predict(mid) as tf.Tensor;
  const err = maxAbsDiff(whole, out);
  console.log(`# ${b.info.id}@${b.imageSize} split(${k}): prefix output ${mid.shape.slice(1)}, max abs diff ${err.toExponential(2)}`);
  assert.ok(err <= 1e-4, `split(${k}) differs by ${err}`);
  if (k === 0) assert.equal(prefix, b.model);
  if (k === 'all') assert.equal(prefix, null);
  tf.dispose([whole, out, ...(prefix ? [mid] : [])]);
}

test('the registry lists the three pretrained backbones with their input sizes and pixel ranges, then the operator-configured ones', () => {
  const ids = listBackbones().map((b) => b.id);
  assert.deepEqual(ids, ['mobilenet_v2', 'mobilenet_v2_mid', 'inception_v3', 'resnet50', 'vgg16']);
  for (const b of listBackbones().slice(0, 3)) {
    assert.deepEqual(b.pixelRange, [0, 1]);
    assert.equal(b.available, true);
  }
  // Keras' ResNet50/VGG16 take caffe pixels: BGR minus the ImageNet mean, 0 − 123.68 … 255 − 103.939
  for (const b of listBackbones().slice(3)) {
    assert.equal(b.preprocessing, 'caffe');
    assert.deepEqual(b.pixelRange, decoderPreprocessing(b, 224).pixelRange.map((v) => Math.round(v * 1e3) / 1e3));
  }
});

test('mobilenet_v2 at 224 computes what the packaged nsfwjs network computes up to its pooled features', async () => {
  const b = await loadBackbone('mobilenet_v2', { imageSize: 224 });
  const packaged = readNsfwjsModel('mobilenet_v2');
  const original = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: packaged.modelTopology, weightSpecs: packaged.weightSpecs, weightData: packaged.weightData }));
  const flatten = tf.model({ inputs: original.inputs, outputs: original.getLayer('flatten_1').output as tf.SymbolicTensor });
  const x = randomImages(2, 224, 1);
  const ours = b.model.predict(x) as tf.Tensor;
  const ref = flatten.predict(x) as tf.Tensor;
  const err = maxAbsDiff(ours, ref);
  console.log(`# mobilenet_v2@224 vs packaged flatten_1: max abs diff ${err.toExponential(2)}`);
  assert.ok(err <= 1e-4);
  tf.dispose([x, ours, ref]);
  original.dispose();
  b.dispose();
});

for (const { id, sizes } of [
  { id: 'mobilenet_v2', sizes: [32, 64] },
  { id: 'mobilenet_v2_mid', sizes: [32, 64] },
  { id: 'inception_v3', sizes: [75] }, // big: only its smallest valid size
]) {
  test(`${id} loads and gives ${listBackbones().find((b) => b.id === id)!.featureDim}-d features at ${sizes.join(' and ')} px; split(0, 2, all) equals the whole model`, async () => {
    for (const size of sizes) {
      const t0 = Date.now();
      const b = await loadBackbone(id, { imageSize: size });
      console.log(`# ${id}@${size} loaded in ${Date.now() - t0} ms`);
      assert.equal(b.imageSize, size);
      const x = randomImages(3, size, size);
      const y = b.model.predict(x) as tf.Tensor;
      assert.deepEqual(y.shape, [3, b.info.featureDim]);
      // pretrained features: finite, not constant across images
      const values = y.dataSync();
      assert.ok(values.every(Number.isFinite));
      assert.ok(maxAbsDiff(y.slice([0, 0], [1, -1]), y.slice([1, 0], [1, -1])) > 1e-3);
      for (const k of [0, 2, 'all'] as const) assertSplitEqualsWhole(b, x, k);
      tf.dispose([x, y]);
      b.dispose();
    }
  });
}

test('bad references and sizes are refused with codes a user can act on', async () => {
  await assert.rejects(loadBackbone('resnet_9000', {}), (e: unknown) => e instanceof GraftError && e.code === 'unknown_backbone');
  await assert.rejects(loadBackbone('mobilenet_v2', { imageSize: 100 }), (e: unknown) => e instanceof GraftError && e.code === 'invalid_hyperparameters' && /multiple of 32/.test(e.message));
  await assert.rejects(loadBackbone('inception_v3', { imageSize: 64 }), (e: unknown) => e instanceof GraftError && e.code === 'invalid_hyperparameters');
  const b = await loadBackbone(undefined, { imageSize: 32 });
  assert.equal(b.info.id, 'mobilenet_v2');
  assert.throws(() => b.split(19), (e: unknown) => e instanceof GraftError && e.code === 'invalid_hyperparameters' && /18 blocks/.test(e.message));
  b.dispose();
});

test('dispose() frees every backbone tensor, also after split() re-applied its layers', async () => {
  (await loadBackbone('mobilenet_v2', { imageSize: 32 })).dispose(); // first load may cache process-wide state
  const before = tf.memory().numTensors;
  const b = await loadBackbone('mobilenet_v2', { imageSize: 32 });
  assert.ok(tf.memory().numTensors > before);
  for (const k of [2, 0, 'all'] as const) b.split(k);
  b.dispose();
  assert.equal(tf.memory().numTensors, before);
});

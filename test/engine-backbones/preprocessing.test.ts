// The preprocessing modes of a backbone spec (Keras "tf"/"caffe", PyTorch "torch", explicit mean/std/BGR)
// through the one decoder training and /predict share, against pixel values worked out by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { GraftError, type PixelPreprocessing } from '@graft/spec';
import { decodeModel, exportToOnnx } from '@graft/onnx';
import { decodeBatch } from '@graft/serving';
import { decodeImage, decodeViews, decoderPreprocessing, type Preprocessing } from '../../packages/engine/src/preprocess/index.ts';
import { exportMetadata, folderSaveHandler } from '../../packages/engine/src/checkpoint/index.ts';
import { initBackend } from '../../packages/engine/src/runtime/backend.ts';
import { train } from '../../packages/engine/src/train.ts';
import { DatasetFactory, twoClasses } from '../engine-methods/fixtures.ts';

/** A solid-colour PNG: every resize keeps the colour exactly. */
const solid = (r: number, g: number, b: number) => sharp({ create: { width: 12, height: 9, channels: 3, background: { r, g, b } } }).png().toBuffer();

const decoderFor = (preprocessing: PixelPreprocessing, size = 4): Preprocessing => decoderPreprocessing({ pixelRange: [0, 1], preprocessing }, size);

// pixel (R, G, B) = (10, 20, 30), worked out by hand from each convention's definition
const expected: [string, PixelPreprocessing, number[]][] = [
  // x / 127.5 − 1
  ['tf', 'tf', [10 / 127.5 - 1, 20 / 127.5 - 1, 30 / 127.5 - 1]],
  // BGR, minus Keras' BGR ImageNet mean
  ['caffe', 'caffe', [30 - 103.939, 20 - 116.779, 10 - 123.68]],
  // (x/255 − mean) / std, RGB: (0.0392157 − 0.485) / 0.229 …
  ['torch', 'torch', [-1.9466564, -1.6855742, -1.2815686]],
  // explicit: BGR, scale 1, mean (1, 2, 3), std (2, 4, 8) per model channel: ((30−1)/2, (20−2)/4, (10−3)/8)
  ['explicit bgr', { scale: 1, mean: [1, 2, 3], std: [2, 4, 8], channelOrder: 'bgr' }, [14.5, 4.5, 0.875]],
];

for (const [name, preprocessing, want] of expected) {
  test(`preprocessing ${name}: every pixel of a decoded (10, 20, 30) image is ${want.map((v) => v.toFixed(4)).join(', ')}`, async () => {
    const p = decoderFor(preprocessing);
    const img = await decodeImage(await solid(10, 20, 30), p);
    assert.equal(img.length, 4 * 4 * 3);
    for (let i = 0; i < img.length; i++) assert.ok(Math.abs(img[i] - want[i % 3]) < 1e-5, `${name} value ${i}: ${img[i]} instead of ${want[i % 3]}`);
  });
}

test('the decoder options record the full normalisation only where a pixel range cannot say it', () => {
  // "tf" is the linear map onto −1…1: checkpoints keep the old form
  assert.deepEqual(decoderFor('tf', 8), { imageSize: 8, pixelRange: [-1, 1], resize: 'cover' });
  // no preprocessing: the backbone's pixel range as before
  assert.deepEqual(decoderPreprocessing({ pixelRange: [0, 1] }, 8), { imageSize: 8, pixelRange: [0, 1], resize: 'cover' });
  const caffe = decoderFor('caffe', 8);
  assert.deepEqual(caffe.normalization, { scale: 1, mean: [103.939, 116.779, 123.68], std: [1, 1, 1], channelOrder: 'bgr' });
  // the value range over all channels: 0 − 123.68 … 255 − 103.939
  assert.ok(Math.abs(caffe.pixelRange[0] + 123.68) < 1e-9 && Math.abs(caffe.pixelRange[1] - 151.061) < 1e-9, `${caffe.pixelRange}`);
  assert.throws(() => decoderFor({ scale: 1, mean: [0, 0, 0], std: [1, 0, 1], channelOrder: 'rgb' }), /std > 0/);
});

test('augmented views are normalised like the plain view (caffe: BGR, mean subtracted after the brightness jitter)', async () => {
  const p = decoderFor('caffe', 8);
  const file = await solid(10, 20, 30);
  const views = await decodeViews(file, p, { augmentViews: 2, seed: 1, index: 0 });
  assert.deepEqual(views[0], await decodeImage(file, p));
  for (const view of views.slice(1)) {
    // channel 0 is blue = 30·b − 103.939; the same brightness b must give red = 10·b − 123.68 in channel 2
    const b = (view[0] + 103.939) / 30;
    assert.ok(b > 0.75 && b < 1.25, `brightness ${b}`);
    assert.ok(Math.abs(view[2] - (10 * b - 123.68)) < 1e-3, `red ${view[2]} for brightness ${b}`);
  }
});

test('a user model with preprocessing "caffe" trains on caffe pixels; checkpoint, /predict decoding and the ONNX file record it', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'graft-preprocessing-'));
  const data = await DatasetFactory.create();
  await initBackend();
  const input = tf.input({ shape: [32, 32, 3] });
  const conv = tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, activation: 'relu', name: 'c1' }).apply(input) as tf.SymbolicTensor;
  const user = tf.model({ inputs: input, outputs: tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(conv) as tf.SymbolicTensor });
  try {
    await user.save(folderSaveHandler(dir));
    const target = await data.make({ patterns: twoClasses, perClass: 5, size: 40, seed: 4 });
    const backbone = { url: pathToFileURL(path.join(dir, 'model.json')).href, preprocessing: 'caffe' as const };
    const m = await train({ method: 'feature_extraction', backbone, target, hyperparameters: { validationSplit: 0 } });
    try {
      const p = m.metadata.preprocessing;
      assert.equal(p.normalization?.channelOrder, 'bgr');
      assert.deepEqual(p.normalization?.mean, [103.939, 116.779, 123.68]);
      // /predict's batch decoder with the checkpoint's preprocessing feeds the model what training saw
      const file = target.items[0].file;
      const served = await decodeBatch([await readFile(file)], p, { maxImagePixels: 1e7 });
      assert.deepEqual(served, await decodeImage(file, decoderFor('caffe', 32)));
      assert.ok(served.some((v) => v < -50), 'the mean is subtracted');
      const onnx = decodeModel(exportToOnnx(m.model, { metadata: exportMetadata(m.metadata) }));
      const props = Object.fromEntries((onnx.metadataProps ?? []).map((kv) => [kv.key, kv.value]));
      assert.deepEqual(JSON.parse(props['graft.preprocessing']), p);
      assert.deepEqual(JSON.parse(props['graft.labels']), m.labels);
    } finally {
      m.dispose();
    }
    await assert.rejects(
      train({ method: 'feature_extraction', backbone: { ...backbone, pixelRange: '0,255' }, target }),
      (e: unknown) => e instanceof GraftError && /either pixelRange or preprocessing/.test(e.message),
    );
  } finally {
    user.dispose();
    await data.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
});

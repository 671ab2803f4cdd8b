// The real pretrained backbones exported to ONNX: pooled features (every registered backbone) and a
// frozen-prefix cut computed by ONNX Runtime must match TF.js on fixture images (max abs diff ≤ 1e-4).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { createOnnxRunner, decodeModel, exportToOnnx } from '@graft/onnx';
import { loadBackbone, type Backbone } from '../../packages/engine/src/backbones/index.ts';
import { defaultPatterns, mulberry32, renderPattern } from '../support/images.ts';

const SIZE = 96;
let backbone: Backbone;
let images: Float32Array;
const n = defaultPatterns.length;

/** The fixture patterns at `size` px, scaled to the backbone's pixel range. */
function renderImages(size: number, [lo, hi]: [number, number]): Float32Array {
  const rand = mulberry32(11);
  const out = new Float32Array(n * size * size * 3);
  defaultPatterns.forEach((p, k) => {
    const px = renderPattern(p, rand, { size });
    for (let i = 0; i < px.length; i++) out[k * px.length + i] = lo + (px[i] / 255) * (hi - lo);
  });
  return out;
}

before(async () => {
  backbone = await loadBackbone('mobilenet_v2', { imageSize: SIZE });
  images = renderImages(SIZE, backbone.info.pixelRange);
});

after(() => backbone.dispose());

async function compare(model: tf.LayersModel, x = images, size = SIZE): Promise<{ maxDiff: number; maxAbs: number; shape: number[] }> {
  const expected = tf.tidy(() => (model.predict(tf.tensor(x, [n, size, size, 3])) as tf.Tensor).dataSync() as Float32Array);
  const runner = await createOnnxRunner(exportToOnnx(model));
  assert.ok(runner, 'ONNX Runtime loads here');
  try {
    const actual = await runner.run(x, n);
    assert.equal(actual.length, expected.length);
    let maxDiff = 0;
    let maxAbs = 0;
    for (let k = 0; k < expected.length; k++) {
      maxDiff = Math.max(maxDiff, Math.abs(actual[k] - expected[k]));
      maxAbs = Math.max(maxAbs, Math.abs(expected[k]));
    }
    return { maxDiff, maxAbs, shape: runner.outputShape };
  } finally {
    await runner.dispose();
  }
}

test('MobileNetV2 pooled features on ONNX Runtime match TF.js', async () => {
  const r = await compare(backbone.model);
  assert.deepEqual(r.shape, [1280]);
  assert.ok(r.maxAbs > 0.1, 'features are not trivially zero');
  assert.ok(r.maxDiff <= 1e-4, `max abs difference ${r.maxDiff}`);
  // every BatchNorm of the backbone folds into its conv, every ZeroPadding2D into the next conv's pads
  const ops = new Set(decodeModel(exportToOnnx(backbone.model)).graph.node.map((node) => node.opType));
  assert.ok(!ops.has('BatchNormalization') && !ops.has('Pad'), [...ops].join(' '));
});

test('a frozen prefix (all but the last 2 blocks) on ONNX Runtime matches TF.js', async () => {
  const { prefix } = backbone.split(2);
  assert.ok(prefix);
  const r = await compare(prefix);
  assert.equal(r.shape.length, 3, 'the prefix returns an NHWC activation map');
  assert.ok(r.maxDiff <= 1e-4, `max abs difference ${r.maxDiff}`);
});

// the other registered backbones, at their smallest sizes (InceptionV3 is big)
for (const { id, size } of [
  { id: 'mobilenet_v2_mid', size: 64 },
  { id: 'inception_v3', size: 75 },
]) {
  test(`${id} (${size} px) pooled features on ONNX Runtime match TF.js`, async () => {
    const other = await loadBackbone(id, { imageSize: size });
    try {
      const r = await compare(other.model, renderImages(size, other.info.pixelRange), size);
      assert.equal(r.shape.length, 1, 'pooled features');
      assert.ok(r.maxAbs > 0.1, 'features are not trivially zero');
      assert.ok(r.maxDiff <= 1e-4, `max abs difference ${r.maxDiff} (largest feature ${r.maxAbs})`);
    } finally {
      other.dispose();
    }
  });
}

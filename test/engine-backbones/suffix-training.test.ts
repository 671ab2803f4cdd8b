// The point of the wasm gradient kernels: the last two MobileNetV2 blocks (1×1 convs, a depthwise
// conv, BatchNorm) train on the wasm backend from cached prefix activations of real images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadBackbone } from '../../packages/engine/src/backbones/index.ts';
import { computePrefixActivations } from '../../packages/engine/src/activations/index.ts';
import { writeImageFolder } from '../support/images.ts';

test('a MobileNetV2 suffix (last 2 blocks) + head trains on wasm: loss falls, block weights move', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'graft-suffix-'));
  try {
    await writeImageFolder(dir, { perClass: 8, size: 48 });
    const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.png')).map((f) => path.join(dir, f)).sort();
    const labels = files.map((f) => (path.basename(path.dirname(f)) === 'red_square' ? 0 : 1));
    const backbone = await loadBackbone('mobilenet_v2', { imageSize: 64 });
    assert.equal(tf.getBackend(), 'wasm');
    const { prefix, suffix } = backbone.split(2);
    const cache = await computePrefixActivations({ prefix, files, preprocessing: { imageSize: 64, pixelRange: [0, 1], resize: 'cover' }, threads: 1 });

    const input = tf.input({ shape: cache.shape });
    const features = suffix.apply(input) as tf.SymbolicTensor;
    const probs = tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(features) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: probs });
    model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });

    const depthwise = backbone.model.getLayer('block_16_depthwise').getWeights()[0];
    const before = depthwise.dataSync().slice();
    const x = tf.tensor(cache.views[0], [cache.count, ...cache.shape]);
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 2);
    const history = await model.fit(x, y, { epochs: 8, batchSize: 8, shuffle: false, verbose: 0 });
    const losses = history.history.loss as number[];
    console.log(`# suffix training losses on wasm: ${losses.map((l) => l.toFixed(3)).join(' ')}`);
    assert.ok(losses.at(-1)! < losses[0] * 0.7, `loss ${losses[0]} -> ${losses.at(-1)}`);
    const after = backbone.model.getLayer('block_16_depthwise').getWeights()[0].dataSync();
    assert.ok(after.some((v, i) => Math.abs(v - before[i]) > 1e-6), 'the depthwise kernel of block_16 was updated (through our kernels)');
    tf.dispose([x, y]);
    backbone.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

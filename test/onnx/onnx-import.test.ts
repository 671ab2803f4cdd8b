// ONNX models imported into TF.js layers (backbone: { url, format: "onnx" }): our own exports of real and
// random-weight backbones come back with the same outputs; a hand-built torchvision-style NCHW graph (torch's
// symmetric pads, unfolded BatchNorm, grouped and depthwise convs, Flatten of a feature map into Gemm) gives
// what ONNX Runtime computes from the same file; ops outside the set are refused by name and node; and an
// imported model trains through train() and serves.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { createOnnxRunner, exportToOnnx, onnxToLayers, UnsupportedOnnxError } from '@graft/onnx';
import { GraftError } from '@graft/spec';
import { OnnxGraph } from '../../packages/onnx/src/export/onnx-graph.ts';
import { loadBackbone } from '../../packages/engine/src/backbones/index.ts';
import { resnet50, vgg16 } from '../../packages/engine/src/backbones/keras-applications.ts';
import { initBackend } from '../../packages/engine/src/runtime/backend.ts';
import { train } from '../../packages/engine/src/train.ts';
import { mulberry32 } from '../support/images.ts';
import { DatasetFactory, twoClasses } from '../engine-methods/fixtures.ts';
import { maxAbsDiff } from '../support/numbers.ts';

const SIZE = 64;
let dir: string;

before(async () => {
  await initBackend();
  dir = await mkdtemp(path.join(tmpdir(), 'graft-onnx-import-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function roundTrip(name: string, model: tf.LayersModel, x: tf.Tensor4D) {
  const imported = onnxToLayers(exportToOnnx(model)).model;
  try {
    const a = (imported.predict(x) as tf.Tensor).dataSync();
    const b = (model.predict(x) as tf.Tensor).dataSync();
    const { diff, scale } = maxAbsDiff(a, b);
    console.log(`# ${name}: ${imported.layers.length} layers imported, outputs up to ${scale.toFixed(3)}, max abs diff ${diff.toExponential(2)}`);
    assert.ok(scale > 0 && diff <= 1e-4 * Math.max(1, scale), `${name}: max abs diff ${diff} (scale ${scale})`);
  } finally {
    imported.dispose();
  }
}

test('our ONNX exports of MobileNetV2 (pretrained), ResNet-50 and VGG-16 (random weights) import with the same outputs', async () => {
  const mobilenet = await loadBackbone('mobilenet_v2', { imageSize: SIZE });
  const x = tf.randomUniform([2, SIZE, SIZE, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
  const caffe = tf.randomUniform([2, SIZE, SIZE, 3], -120, 150, 'float32', 3) as tf.Tensor4D;
  try {
    await roundTrip('mobilenet_v2', mobilenet.model, x);
    for (const [id, build] of [['resnet50', resnet50], ['vgg16', vgg16]] as const) {
      const { model } = build(SIZE, 1);
      await roundTrip(id, model, caffe);
      model.dispose();
    }
  } finally {
    tf.dispose([x, caffe]);
    mobilenet.dispose();
  }
});

/** A torchvision-style NCHW model written node by node: what torch.onnx.export emits for such layers. */
function torchStyleModel(size: number, extra?: (g: OnnxGraph, x: string) => string): Uint8Array {
  const rand = mulberry32(17);
  const g = new OnnxGraph();
  const w = (base: string, dims: number[], scale = 0.3) => g.addFloat(base, dims, Float32Array.from({ length: dims.reduce((p, q) => p * q, 1) }, () => (rand() * 2 - 1) * scale));
  const positive = (base: string, n: number) => g.addFloat(base, [n], Float32Array.from({ length: n }, () => 0.5 + rand()));
  g.reserve('input');
  const conv = (x: string, name: string, dims: number[], attrs: Record<string, { i: number } | { ints: number[] }>) =>
    g.add('Conv', [x, w(`${name}.weight`, dims), w(`${name}.bias`, [dims[0]], 0.1)], { kernel_shape: { ints: dims.slice(2) }, ...attrs }, name);
  // conv1: 3×3 stride 2 with torch's symmetric padding 1 (not TF's 'same'), then an unfolded BatchNorm
  let x = conv('input', 'conv1', [8, 3, 3, 3], { strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } });
  x = g.add('BatchNormalization', [x, positive('bn1.weight', 8), w('bn1.bias', [8], 0.1), w('bn1.running_mean', [8], 0.1), positive('bn1.running_var', 8)], { epsilon: { f: 1e-5 } }, 'bn1');
  x = g.add('Relu', [x], {}, 'relu');
  const pooled = g.add('MaxPool', [x], { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } }, 'maxpool');
  // grouped (2 groups) then depthwise, a residual Add and ReLU6 as Clip
  let y = conv(pooled, 'layer1.grouped', [8, 4, 3, 3], { group: { i: 2 }, pads: { ints: [1, 1, 1, 1] } });
  y = conv(y, 'layer1.depthwise', [8, 1, 3, 3], { group: { i: 8 }, pads: { ints: [1, 1, 1, 1] } });
  y = g.add('Clip', [g.add('Add', [y, pooled], {}, 'layer1.add'), g.addFloat('min', [], Float32Array.of(0)), g.addFloat('max', [], Float32Array.of(6))], {}, 'layer1.relu6');
  let z = g.add('Concat', [y, pooled], { axis: { i: 1 } }, 'cat');
  z = g.add('Pad', [z, g.addInt64('pads', [0, 0, 1, 1, 0, 0, 1, 1])], { mode: { s: 'constant' } }, 'pad');
  z = g.add('AveragePool', [z], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } }, 'avgpool');
  if (extra) z = extra(g, z);
  const c = size / 4 / 2 + 1; // conv1 /2, maxpool /2, pad +2, avgpool /2
  // a classifier on the flattened C×H×W map (ONNX's channel-major order) plus one on the global pool via MatMul + Add
  const flat = g.add('Gemm', [g.add('Flatten', [z], { axis: { i: 1 } }, 'flatten'), w('fc.weight', [10, 16 * c * c], 0.1), w('fc.bias', [10], 0.1)], { transB: { i: 1 } }, 'fc');
  const gap = g.add('Flatten', [g.add('GlobalAveragePool', [z], {}, 'gap')], { axis: { i: 1 } }, 'gap_flatten');
  const aux = g.add('Add', [g.add('MatMul', [gap, w('aux.weight', [16, 10])], {}, 'aux'), w('aux.bias', [10], 0.1)], {}, 'aux_bias');
  const out = g.add('Add', [flat, aux], {}, 'logits');
  g.reserve('output');
  g.nodes.push({ name: 'output', opType: 'Identity', inputs: [out], outputs: ['output'], attrs: {} });
  return g.encode({ inputs: [{ name: 'input', dims: [null, 3, size, size] }], outputs: [{ name: 'output', dims: [null, 10] }], opset: 13, producerVersion: 'test' });
}

test('a torchvision-style NCHW ONNX model imports and computes what ONNX Runtime computes from the same file', async () => {
  const size = 16;
  const bytes = torchStyleModel(size);
  const { model, inputSize } = onnxToLayers(bytes);
  assert.deepEqual(inputSize, [size, size]);
  const nhwc = tf.randomUniform([3, size, size, 3], -2, 2, 'float32', 8);
  const nchw = tf.transpose(nhwc, [0, 3, 1, 2]);
  const runner = await createOnnxRunner(bytes);
  assert.ok(runner, 'ONNX Runtime loads here');
  try {
    const expected = await runner.run(nchw.dataSync() as Float32Array, 3);
    const actual = (model.predict(nhwc) as tf.Tensor).dataSync();
    const { diff, scale } = maxAbsDiff(actual, expected);
    console.log(`# torch-style model: outputs up to ${scale.toFixed(3)}, max abs diff ${diff.toExponential(2)}`);
    assert.ok(scale > 0.1 && diff <= 1e-4, `max abs diff ${diff} (scale ${scale})`);
  } finally {
    await runner.dispose();
    tf.dispose([nhwc, nchw]);
    model.dispose();
  }
});

test('a real torch.onnx.export of torchvision blocks (ResNet stem + BasicBlocks, InvertedResidual, grouped conv) imports with torch\'s outputs', async () => {
  const fixtures = new URL('./fixtures/', import.meta.url);
  const expected = JSON.parse(await readFile(new URL('torch-blocks.json', fixtures), 'utf8')) as { size: number; logits: number[][] };
  const { model, inputSize } = onnxToLayers(await readFile(new URL('torch-blocks.onnx', fixtures)));
  const s = expected.size;
  assert.deepEqual(inputSize, [s, s]);
  // the fixture script's input, x[n, c, h, w] = sin(0.1 · (n·7919 + c·4096 + h·64 + w)), laid out NHWC
  const x = new Float32Array(2 * s * s * 3);
  for (let n = 0; n < 2; n++) for (let h = 0; h < s; h++) for (let w = 0; w < s; w++) for (let c = 0; c < 3; c++) x[((n * s + h) * s + w) * 3 + c] = Math.sin(0.1 * (n * 7919 + c * 4096 + h * 64 + w));
  const input = tf.tensor4d(x, [2, s, s, 3]);
  try {
    const actual = (model.predict(input) as tf.Tensor).dataSync();
    const { diff, scale } = maxAbsDiff(actual, expected.logits.flat());
    console.log(`# torch export: ${model.layers.length} layers, logits up to ${scale.toFixed(3)}, max abs diff ${diff.toExponential(2)}`);
    assert.ok(diff <= 1e-4, `max abs diff ${diff}`);
  } finally {
    input.dispose();
    model.dispose();
  }
});

test('an op outside the supported set, or a setting layers cannot express, is refused with its name and node', () => {
  const sigmoid = torchStyleModel(16, (g, x) => g.add('Sigmoid', [x], {}, 'gate'));
  assert.throws(() => onnxToLayers(sigmoid), (e: unknown) => e instanceof UnsupportedOnnxError && e.opType === 'Sigmoid' && e.nodeName === 'gate/Sigmoid' && /Sigmoid \(node "gate\/Sigmoid"\)/.test(e.message));
  // a max pool padded where TF's 'same' would not pad, on values that may be negative: zero padding would change it
  const signed = torchStyleModel(16, (g, x) => {
    const conv = g.add('Conv', [x, g.addFloat('mix', [16, 16, 1, 1], new Float32Array(256).fill(-0.1))], { kernel_shape: { ints: [1, 1] } }, 'mix');
    return g.add('MaxPool', [conv], { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 0, 0] } }, 'pool2');
  });
  assert.throws(() => onnxToLayers(signed), (e: unknown) => e instanceof UnsupportedOnnxError && e.nodeName === 'pool2/MaxPool' && /may be negative/.test(e.message));
});

test('backbone { url, format: "onnx" } loads, refuses an unsupported file by op name, and fine_tune trains on it', async () => {
  const file = path.join(dir, 'torch-style.onnx');
  await writeFile(file, torchStyleModel(32));
  const url = pathToFileURL(file).href;
  const b = await loadBackbone({ url, format: 'onnx', preprocessing: 'torch' });
  assert.equal(b.imageSize, 32);
  assert.equal(b.info.preprocessing, 'torch');
  assert.ok(b.info.blocks >= 2, `${b.info.blocks} blocks`);
  b.dispose();
  const bad = path.join(dir, 'bad.onnx');
  await writeFile(bad, torchStyleModel(32, (g, x) => g.add('Sigmoid', [x], {}, 'gate')));
  await assert.rejects(loadBackbone({ url: pathToFileURL(bad).href }), (e: unknown) => e instanceof GraftError && e.code === 'backbone_load_failed' && /Sigmoid \(node "gate\/Sigmoid"\)/.test(e.message));

  const data = await DatasetFactory.create();
  try {
    const target = await data.make({ patterns: twoClasses, perClass: 5, size: 40, seed: 12 });
    const m = await train({ method: 'fine_tune', backbone: { url, format: 'onnx', preprocessing: 'torch' }, target, hyperparameters: { epochs: 2, batchSize: 4, augment: false, trainableBlocks: 1, seed: 3 } });
    try {
      assert.equal(m.metadata.backbone.id, url);
      assert.equal(m.metadata.preprocessing.imageSize, 32);
      assert.deepEqual(m.metadata.preprocessing.normalization?.std, [0.229, 0.224, 0.225]);
      assert.ok(m.epochs.every((e) => Number.isFinite(e.loss)));
      // the trained model exports back to ONNX
      assert.ok(exportToOnnx(m.model).length > 1000);
    } finally {
      m.dispose();
    }
  } finally {
    await data.cleanup();
  }
});

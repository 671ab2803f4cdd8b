// The trainable backbone suffix on ONNX Runtime (hand-built backward graph, BatchNorm folded in JS each step)
// against TF.js's own gradients on real pretrained MobileNetV2 weights and real images, and the fallback to
// TF.js when an op has no gradient rule or ONNX Runtime is switched off.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { OnnxSuffixRunner } from '@graft/onnx';
import type { ImageDataset } from '@graft/datasets';
import { loadBackbone, type Backbone } from '../../packages/engine/src/backbones/index.ts';
import { resnet50, vgg16 } from '../../packages/engine/src/backbones/keras-applications.ts';
import { splitAtBlocks } from '../../packages/engine/src/backbones/split.ts';
import { createSuffixRunner, tfjsSuffixRunner, type SuffixRunner } from '../../packages/engine/src/suffix/index.ts';
import { train } from '../../packages/engine/src/train.ts';
import { defaultPatterns, mulberry32, renderPattern } from '../support/images.ts';
import { DatasetFactory, twoClasses } from '../engine-methods/fixtures.ts';

const SIZE = 64;
let backbone: Backbone;
let images: tf.Tensor4D;

before(async () => {
  backbone = await loadBackbone('mobilenet_v2', { imageSize: SIZE });
  const rand = mulberry32(3);
  const pixels = defaultPatterns.flatMap((p) => Array.from(renderPattern(p, rand, { size: SIZE }), (v) => v / 255)); // mobilenet_v2 takes 0..1
  images = tf.tensor4d(pixels, [defaultPatterns.length, SIZE, SIZE, 3]);
});

after(() => {
  images.dispose();
  backbone.dispose();
});

function maxAbs(t: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]);
}

/** Runs both runners' forward + backward on one batch; the worst per-weight error relative to that weight's largest gradient. */
async function compare(onnx: SuffixRunner, reference: SuffixRunner, x: tf.Tensor) {
  const a = await onnx.forward(x);
  const b = await reference.forward(x);
  const featureDiff = maxAbs(tf.sub(a.features, b.features));
  // a fixed random d(loss)/d(features): every feature and weight gets a gradient
  const dF = tf.randomNormal(a.features.shape, 0, 1, 'float32', 5) as tf.Tensor2D;
  const ga = await a.backward(dF);
  const gb = await b.backward(dF);
  let worst = { name: '', abs: 0, rel: 0 };
  let worstNorm = { name: '', rel: 0 };
  // ONNX Runtime's gradients come as its own arrays, TF.js's as tensors
  const asTensor = (v: tf.Tensor | Float32Array, shape: number[]) => (v instanceof tf.Tensor ? v : tf.tensor(v, shape));
  for (const [name, gv] of Object.entries(gb)) {
    assert.ok(ga[name], `ONNX gives a gradient for ${name}`);
    const g = gv as tf.Tensor;
    const o = asTensor(ga[name]!, g.shape);
    const abs = maxAbs(tf.sub(o, g));
    const rel = abs / Math.max(maxAbs(g), 1e-12);
    if (rel > worst.rel) worst = { name, abs, rel };
    const norm = tf.tidy(() => tf.norm(tf.sub(o, g)).dataSync()[0] / Math.max(tf.norm(g).dataSync()[0], 1e-12));
    if (norm > worstNorm.rel) worstNorm = { name, rel: norm };
    if (o !== ga[name]) o.dispose();
  }
  const counts = [Object.keys(ga).length, Object.keys(gb).length];
  tf.dispose([dF, ...[...Object.values(ga), ...Object.values(gb)].filter((v): v is tf.Tensor => v instanceof tf.Tensor)]);
  a.dispose();
  b.dispose();
  return { featureDiff, worst, worstNorm, counts };
}

for (const blocks of [2, 'all'] as const) {
  test(`MobileNetV2 suffix (trainableBlocks ${blocks}): ONNX Runtime features and gradients match TF.js`, async () => {
    const { prefix, suffix } = backbone.split(blocks);
    const x = prefix ? (prefix.predict(images) as tf.Tensor) : images;
    const onnx = await OnnxSuffixRunner.create(suffix);
    assert.ok(onnx, 'the suffix trains on ONNX Runtime');
    try {
      const { featureDiff, worst, counts } = await compare(onnx, tfjsSuffixRunner(suffix), x);
      console.log(`# ${blocks}: features max abs diff ${featureDiff}; worst gradient ${worst.name}: max abs diff ${worst.abs}, relative ${worst.rel}`);
      assert.equal(counts[0], suffix.trainableWeights.length);
      assert.equal(counts[0], counts[1]);
      assert.ok(featureDiff <= 1e-4, `features max abs difference ${featureDiff}`);
      assert.ok(worst.rel <= 1e-3, `gradient of ${worst.name}: max abs difference ${worst.abs}, ${worst.rel} of its largest entry`);
      // inference gives the forward pass's features
      const p = await onnx.predict(x);
      const f = await tfjsSuffixRunner(suffix).predict(x);
      assert.ok(maxAbs(tf.sub(p, f)) <= 1e-4);
      tf.dispose([p, f]);
    } finally {
      await onnx.dispose();
      if (prefix) x.dispose();
    }
  });
}

/**
 * A suffix on ONNX Runtime against TF.js on `x`. `deep`: the suffix is many pools and ReLUs deep, where the
 * two runtimes' rounding (~1e-6) can tip a near-tie in a max-pool window or a pre-activation at 0 the other
 * way, so single gradient entries may differ (VGG-16 at seed 3: TF.js's own block4_conv3 gradient moves by
 * 1.3 % of its largest entry under 1e-7 relative input noise); there the whole gradient must agree to 1 %.
 */
async function checkSuffix(what: string, suffix: tf.LayersModel, x: tf.Tensor, deep = false) {
  const onnx = await OnnxSuffixRunner.create(suffix);
  assert.ok(onnx, `${what}: the suffix trains on ONNX Runtime`);
  try {
    const { featureDiff, worst, worstNorm, counts } = await compare(onnx, tfjsSuffixRunner(suffix), x);
    console.log(`# ${what}: features max abs diff ${featureDiff}; worst gradient ${worst.name}: max abs diff ${worst.abs}, relative ${worst.rel}; worst relative norm ${worstNorm.name}: ${worstNorm.rel}`);
    assert.equal(counts[0], suffix.trainableWeights.length);
    assert.equal(counts[0], counts[1]);
    assert.ok(featureDiff <= 1e-4, `${what}: features max abs difference ${featureDiff}`);
    if (deep) assert.ok(worstNorm.rel <= 1e-2, `${what}: gradient of ${worstNorm.name} differs by ${worstNorm.rel} of its norm`);
    else assert.ok(worst.rel <= 1e-3, `${what}: gradient of ${worst.name}: max abs difference ${worst.abs}, ${worst.rel} of its largest entry`);
  } finally {
    await onnx.dispose();
  }
}

test('MaxPool gradients (overlapping 3×3/2 windows, same and valid padding, after a ZeroPadding2D, exact ties) match TF.js', async () => {
  const input = tf.input({ shape: [13, 13, 3] });
  // positive biases: where the images are blank, neighbouring outputs tie exactly at the bias, and only one of
  // the tied cells may take a window's gradient
  const bias = tf.initializers.randomUniform({ minval: 0.05, maxval: 0.2, seed: 3 });
  let x = tf.layers.conv2d({ filters: 6, kernelSize: 3, activation: 'relu', name: 'mp_conv1', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), biasInitializer: bias }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'mp_same' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 5, kernelSize: 1, name: 'mp_conv2', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: 'mp_pad' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'mp_valid' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 2, name: 'mp_2x2' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor });
  const blank = tf.pad(tf.zeros([3, 7, 7, 3]), [[0, 0], [0, 6], [0, 6], [0, 0]], 1);
  const images = tf.mul(tf.randomNormal([3, 13, 13, 3], 0, 1, 'float32', 4), blank);
  blank.dispose();
  try {
    await checkSuffix('max pools', model, images);
  } finally {
    images.dispose();
    model.dispose();
  }
});

test('Concat and AveragePool gradients (InceptionV3-style branches, same-padded 3×3/1 and valid 2×2/2 averages) match TF.js', async () => {
  const input = tf.input({ shape: [9, 9, 4] });
  const init = (seed: number) => ({ kernelInitializer: tf.initializers.glorotUniform({ seed }), biasInitializer: tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed }) });
  const conv = (x: tf.SymbolicTensor, filters: number, kernelSize: number | [number, number], name: string, seed: number) =>
    tf.layers.conv2d({ filters, kernelSize, padding: 'same', activation: 'relu', name, ...init(seed) }).apply(x) as tf.SymbolicTensor;
  // as in InceptionV3's mixed9/10: a 1×1 branch, a 1×3 and 3×1 pair concatenated, an average-pooled branch
  const b1 = conv(input, 3, 1, 'cp_b1', 1);
  const b3 = conv(input, 4, 1, 'cp_b3', 2);
  const pair = tf.layers.concatenate({ name: 'cp_pair' }).apply([conv(b3, 2, [1, 3], 'cp_b3a', 3), conv(b3, 3, [3, 1], 'cp_b3b', 4)]) as tf.SymbolicTensor;
  const pooled = tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same', name: 'cp_avg_same' }).apply(input) as tf.SymbolicTensor;
  const bp = conv(pooled, 2, 1, 'cp_bp', 5);
  const mixed = tf.layers.concatenate({ name: 'cp_mixed' }).apply([b1, pair, bp]) as tf.SymbolicTensor;
  const down = tf.layers.averagePooling2d({ poolSize: 2, strides: 2, name: 'cp_avg_valid' }).apply(conv(mixed, 4, 3, 'cp_top', 6)) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: tf.layers.globalAveragePooling2d({}).apply(down) as tf.SymbolicTensor });
  const images = tf.randomNormal([3, 9, 9, 4], 0, 1, 'float32', 7);
  try {
    await checkSuffix('concat and average pools', model, images);
  } finally {
    images.dispose();
    model.dispose();
  }
});

for (const [id, build, depths] of [['resnet50', resnet50, [2, 'all']], ['vgg16', vgg16, [2, 'all']]] as const) {
  test(`${id} (random weights, 64 px) suffixes train on ONNX Runtime with TF.js's gradients`, async () => {
    const { model, ends } = build(SIZE, 3);
    const x = tf.randomUniform([2, SIZE, SIZE, 3], -120, 150, 'float32', 6);
    try {
      for (const blocks of depths) {
        const { prefix, suffix } = splitAtBlocks(model, ends, blocks);
        const mid = prefix ? (prefix.predict(x) as tf.Tensor) : x;
        await checkSuffix(`${id} trainableBlocks ${blocks}`, suffix, mid, blocks === 'all');
        if (prefix) mid.dispose();
      }
    } finally {
      x.dispose();
      model.dispose();
    }
  });
}

test('a suffix with an op that has no gradient rule falls back to TF.js, naming the layer', async () => {
  const input = tf.input({ shape: [8, 8, 3] });
  const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, name: 'fallback_conv' }).apply(input) as tf.SymbolicTensor;
  const other = tf.layers.conv2d({ filters: 4, kernelSize: 3, name: 'fallback_conv2' }).apply(input) as tf.SymbolicTensor;
  const pooled = tf.layers.maximum({ name: 'fallback_max' }).apply([conv, other]) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: tf.layers.globalAveragePooling2d({}).apply(pooled) as tf.SymbolicTensor });
  const logs: { level: string; o: Record<string, unknown>; msg?: string }[] = [];
  const logger = {
    info: (o: object, msg?: string) => void logs.push({ level: 'info', o: o as Record<string, unknown>, msg }),
    warn: (o: object, msg?: string) => void logs.push({ level: 'warn', o: o as Record<string, unknown>, msg }),
  };
  const runner = await createSuffixRunner(model, logger);
  assert.ok(!(runner instanceof OnnxSuffixRunner));
  const warning = logs.find((l) => l.level === 'warn');
  assert.match(String(warning?.o.err), /Max.*fallback_max/);
  assert.ok(logs.some((l) => l.o.path === 'tfjs' && /runs on TF\.js/.test(l.msg ?? '')));
  // and it still trains: the fallback's gradients are TF.js's
  const x = tf.randomUniform([2, 8, 8, 3], 0, 1, 'float32', 1);
  const pass = await runner.forward(x);
  const grads = await pass.backward(tf.onesLike(pass.features));
  assert.deepEqual(Object.keys(grads).sort(), model.trainableWeights.map((w) => (w.read() as tf.Variable).name).sort());
  tf.dispose([x, ...Object.values(grads)]);
  pass.dispose();
  model.dispose();
});

test('fine_tune learns through train() on the ONNX suffix runner and, with ONNX Runtime off, on TF.js', async () => {
  const data = await DatasetFactory.create();
  try {
    const target: ImageDataset = await data.make({ patterns: twoClasses, perClass: 12, size: 48, seed: 31 });
    for (const onnx of [true, false]) {
      const messages: { o: Record<string, unknown>; msg?: string }[] = [];
      const keep = (o: object | string, msg?: string) => void messages.push({ o: typeof o === 'string' ? {} : (o as Record<string, unknown>), msg: typeof o === 'string' ? o : msg });
      const previous = process.env.GRAFT_ONNX;
      if (!onnx) process.env.GRAFT_ONNX = 'off';
      try {
        // a random head on the last layer, so the loss has somewhere to fall (the block-end default starts as the probe)
        const hyperparameters = { imageSize: SIZE, epochs: 3, batchSize: 8, seed: 2, features: 'last_layer' as const };
        const m = await train({ method: 'fine_tune', target, hyperparameters, logger: { info: keep, warn: keep, debug() {} } });
        m.dispose();
        const path = messages.find((l) => /trainable suffix runs/.test(l.msg ?? ''))?.o.path;
        assert.equal(path, onnx ? 'onnxruntime' : 'tfjs');
        assert.ok(m.evaluation.accuracy >= 0.8, `${path}: validation accuracy ${m.evaluation.accuracy}`);
        assert.ok(m.epochs.at(-1)!.loss < m.epochs[0].loss, `${path}: the training loss falls`);
      } finally {
        if (previous === undefined) delete process.env.GRAFT_ONNX;
        else process.env.GRAFT_ONNX = previous;
      }
    }
  } finally {
    await data.cleanup();
  }
});

// The exporter against TF.js itself: small models built from every mapped layer family, with random
// weights and BatchNorm statistics, must give the same outputs under ONNX Runtime (max abs diff ≤ 1e-4).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { createModelRunner, createOnnxRunner, decodeModel, exportToOnnx, UnsupportedLayerError } from '@graft/onnx';
import { mulberry32 } from '../support/images.ts';

/** Random weights everywhere (variances positive) so BatchNorm folding and layouts are really exercised. */
function randomize(model: tf.LayersModel, seed: number): void {
  const rand = mulberry32(seed);
  for (const layer of model.layers) {
    const weights = layer.weights.map((w) => {
      const shape = w.shape as number[];
      const positive = /variance/.test(w.name);
      const values = Float32Array.from({ length: tf.util.sizeFromShape(shape) }, () => (positive ? 0.5 + rand() : (rand() - 0.5) * 0.6));
      return tf.tensor(values, shape);
    });
    if (weights.length) layer.setWeights(weights);
    weights.forEach((t) => t.dispose());
  }
}

function randomBatch(n: number, shape: number[], seed: number): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: n * shape.reduce((a, b) => a * b, 1) }, () => rand());
}

async function maxDiffAgainstTfjs(model: tf.LayersModel, n: number, seed = 7, maxChunk?: number): Promise<number> {
  const itemShape = model.inputs[0].shape.slice(1) as number[];
  const batch = randomBatch(n, itemShape, seed);
  const expected = tf.tidy(() => (model.predict(tf.tensor(batch, [n, ...itemShape])) as tf.Tensor).dataSync() as Float32Array);
  const runner = await createOnnxRunner(exportToOnnx(model), { maxChunk });
  assert.ok(runner, 'ONNX Runtime loads here');
  const actual = await runner.run(batch, n);
  await runner.dispose();
  assert.equal(actual.length, expected.length);
  let max = 0;
  for (let k = 0; k < expected.length; k++) max = Math.max(max, Math.abs(actual[k] - expected[k]));
  return max;
}

test('a MobileNet-style block (pad, strided conv, BN, ReLU6, depthwise, residual add, pooling, dense softmax) matches TF.js', async () => {
  const input = tf.input({ shape: [17, 17, 3] });
  let x = tf.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]] }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'valid', useBias: false }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ epsilon: 1e-3 }).apply(x) as tf.SymbolicTensor;
  const stem = tf.layers.reLU({ maxValue: 6 }).apply(x) as tf.SymbolicTensor;
  let y = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthMultiplier: 2, useBias: false }).apply(stem) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization().apply(y) as tf.SymbolicTensor;
  y = tf.layers.reLU({ maxValue: 6 }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.conv2d({ filters: 8, kernelSize: 1, useBias: false }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization().apply(y) as tf.SymbolicTensor;
  const sum = tf.layers.add().apply([stem, y]) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({}).apply(sum) as tf.SymbolicTensor;
  let h = tf.layers.dense({ units: 10, activation: 'relu' }).apply(pooled) as tf.SymbolicTensor;
  h = tf.layers.dropout({ rate: 0.5 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 4, activation: 'softmax' }).apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  randomize(model, 1);

  assert.ok((await maxDiffAgainstTfjs(model, 5)) <= 1e-4);
  assert.ok((await maxDiffAgainstTfjs(model, 5, 8, 2)) <= 1e-4, 'a batch run in chunks of 2 images');
  // BN after a conv is folded into it; the pad before a valid conv becomes the conv's padding
  const ops = decodeModel(exportToOnnx(model)).graph.node.map((n) => n.opType);
  assert.equal(ops.filter((o) => o === 'BatchNormalization').length, 1, `only the BN after the dense layer stays: ${ops.join(' ')}`);
  assert.ok(!ops.includes('Pad'));
  assert.equal(ops.filter((o) => o === 'Conv').length, 3);
});

test('Inception-style branches (same-padded odd sizes, max/avg pooling, concatenate, separable conv, flatten of a 2-D map, nested model) match TF.js', async () => {
  const inner = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 16], filters: 6, kernelSize: [1, 3], padding: 'same', activation: 'elu' }),
      tf.layers.activation({ activation: 'swish' }),
    ],
  });
  const input = tf.input({ shape: [15, 15, 3] });
  const stem = tf.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }).apply(input) as tf.SymbolicTensor;
  const a = tf.layers.maxPooling2d({ poolSize: 3, strides: 1, padding: 'same' }).apply(stem) as tf.SymbolicTensor;
  const b = tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same' }).apply(stem) as tf.SymbolicTensor;
  const c = tf.layers.separableConv2d({ filters: 5, kernelSize: 3, padding: 'same', activation: 'tanh' }).apply(stem) as tf.SymbolicTensor;
  const d = inner.apply(stem) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate({ axis: -1 }).apply([a, b, c, d]) as tf.SymbolicTensor;
  const pooled = tf.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'valid' }).apply(cat) as tf.SymbolicTensor;
  const flat = tf.layers.flatten().apply(pooled) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: 'sigmoid' }).apply(flat) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  randomize(model, 2);
  randomize(inner, 3);
  assert.ok((await maxDiffAgainstTfjs(model, 3)) <= 1e-4);
});

test('Permute of rank-4 maps and Dense on their last axis match TF.js, and a layer stack applied twice stores its weights once', async () => {
  const input = tf.input({ shape: [5, 7, 3] });
  const conv = tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same' });
  const pool = tf.layers.globalAveragePooling2d({});
  const side = (x: tf.SymbolicTensor) => pool.apply(conv.apply(x)) as tf.SymbolicTensor;
  // every Permute of the three axes, each followed by a Dense on its last axis, then the shared layers again
  const branches = [[1, 2, 3], [1, 3, 2], [2, 1, 3], [2, 3, 1], [3, 1, 2], [3, 2, 1]].map((dims) => {
    const permuted = tf.layers.permute({ dims }).apply(input) as tf.SymbolicTensor;
    const mixed = tf.layers.dense({ units: permuted.shape[3]!, activation: 'relu' }).apply(permuted) as tf.SymbolicTensor;
    return dims[2] === 3 ? side(tf.layers.permute({ dims: [dims.indexOf(1) + 1, dims.indexOf(2) + 1, 3] }).apply(mixed) as tf.SymbolicTensor) : (tf.layers.flatten().apply(mixed) as tf.SymbolicTensor);
  });
  const model = tf.model({ inputs: input, outputs: tf.layers.concatenate().apply([side(input), ...branches]) as tf.SymbolicTensor });
  randomize(model, 5);
  assert.ok((await maxDiffAgainstTfjs(model, 3)) < 1e-4);
  const once = exportToOnnx(tf.model({ inputs: input, outputs: side(input) }));
  const kernelBytes = 3 * 3 * 3 * 32 * 4;
  const twice = exportToOnnx(tf.model({ inputs: input, outputs: tf.layers.add().apply([side(input), side(input)]) as tf.SymbolicTensor }));
  assert.ok(twice.length - once.length < kernelBytes, `${twice.length} bytes against ${once.length}: the conv kernel is stored once`);
});

test('a prefix cut at a block boundary keeps its NHWC activation map as output', async () => {
  const input = tf.input({ shape: [16, 16, 3] });
  const x = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', useBias: false }).apply(input) as tf.SymbolicTensor;
  const cut = tf.layers.batchNormalization().apply(x) as tf.SymbolicTensor;
  const head = tf.layers.globalMaxPooling2d({}).apply(tf.layers.reLU().apply(cut) as tf.SymbolicTensor) as tf.SymbolicTensor;
  const whole = tf.model({ inputs: input, outputs: head });
  randomize(whole, 4);
  const prefix = tf.model({ inputs: whole.inputs, outputs: cut });
  const runner = await createOnnxRunner(exportToOnnx(prefix));
  assert.deepEqual(runner?.outputShape, [8, 8, 4]);
  await runner?.dispose();
  assert.ok((await maxDiffAgainstTfjs(prefix, 2)) <= 1e-4);
});

test('the file is opset 13 with NHWC input, a symbolic batch and the given metadata', () => {
  const model = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 2, kernelSize: 1 }), tf.layers.flatten()] });
  const decoded = decodeModel(exportToOnnx(model, { metadata: { labels: '["cat","dog"]' } }));
  assert.ok(decoded.opsetImport.every((o) => o.version >= 13));
  const dims = decoded.graph.input[0].type.tensorType.shape.dim;
  assert.deepEqual(dims, [{ dimParam: 'batch' }, { dimValue: 8 }, { dimValue: 8 }, { dimValue: 3 }]);
  assert.deepEqual(decoded.metadataProps, [{ key: 'labels', value: '["cat","dog"]' }]);
});

test('a layer without an ONNX mapping is refused by name, and the model runner falls back (null)', async () => {
  const model = tf.sequential({
    layers: [tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 2, kernelSize: 1 }), tf.layers.upSampling2d({ size: [2, 2], name: 'grow' }), tf.layers.flatten()],
  });
  assert.throws(() => exportToOnnx(model), (err: unknown) => err instanceof UnsupportedLayerError && err.layerName === 'grow' && /UpSampling2D/.test(err.message));
  const warnings: object[] = [];
  const logger = { info() {}, warn: (o: object) => void warnings.push(o) };
  assert.equal(await createModelRunner(model, { logger }), null);
  assert.deepEqual(warnings, [{ path: 'tfjs', layer: 'grow', layerClass: 'UpSampling2D' }]);
});

test('with ONNX Runtime switched off, runners are null and the log says TF.js runs', async () => {
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2 })] });
  const infos: string[] = [];
  process.env.GRAFT_ONNX = 'off';
  try {
    const runner = await createOnnxRunner(exportToOnnx(model), { logger: { info: (_o, msg) => void infos.push(String(msg)), warn() {} } });
    assert.equal(runner, null);
  } finally {
    delete process.env.GRAFT_ONNX;
  }
  assert.match(infos.join('\n'), /TF\.js/);
});

test('createModelRunner exports and opens a model in one call, and the log says ONNX Runtime runs', async () => {
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [6], units: 3, activation: 'softmax' })] });
  randomize(model, 5);
  const infos: object[] = [];
  const made = await createModelRunner(model, { threads: 1, logger: { info: (o) => void infos.push(o), warn() {} } });
  assert.ok(made);
  try {
    assert.ok(decodeModel(made.onnx).graph.node.some((n) => n.opType === 'Gemm'));
    assert.deepEqual([made.runner.inputShape, made.runner.outputShape], [[6], [3]]);
    const x = randomBatch(2, [6], 9);
    const probs = await made.runner.run(x, 2);
    const expected = tf.tidy(() => (model.predict(tf.tensor(x, [2, 6])) as tf.Tensor).dataSync());
    probs.forEach((p, k) => assert.ok(Math.abs(p - expected[k]) <= 1e-6));
    await assert.rejects(made.runner.run(x, 3), /expected 3 x 6/);
  } finally {
    await made.runner.dispose();
  }
  assert.deepEqual(infos, [{ path: 'onnxruntime', threads: 1, inputShape: [6], outputShape: [3] }]);
});

test('a model without a fixed image size exports (TF same padding as SAME_UPPER) but gets no fixed-shape runner', async () => {
  const input = tf.input({ shape: [null, null, 3] });
  const x = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same' }).apply(input) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor });
  randomize(model, 6);
  const onnx = exportToOnnx(model);
  const warnings: object[] = [];
  assert.equal(await createOnnxRunner(onnx, { logger: { info() {}, warn: (o) => void warnings.push(o) } }), null);
  assert.equal(warnings.length, 1);
  // any ONNX runtime still runs it at a concrete size, with TF's padding
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(onnx);
  const batch = randomBatch(1, [11, 11, 3], 4);
  const out = await session.run({ input: new ort.Tensor('float32', batch, [1, 11, 11, 3]) });
  const expected = tf.tidy(() => (model.predict(tf.tensor(batch, [1, 11, 11, 3])) as tf.Tensor).dataSync());
  (out.output.data as Float32Array).forEach((v, k) => assert.ok(Math.abs(v - expected[k]) <= 1e-5));
  await session.release();
});

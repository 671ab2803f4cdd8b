// feature_extraction reads the pooled outputs of every block end by default, fine_tune those of the frozen blocks
// beside the trained ones; the served model carries that cut itself, so the cached training path, the served
// TF.js model and its ONNX export all give the same answers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { createOnnxRunner, exportToOnnx } from '@graft/onnx';
import type { Hyperparameters } from '@graft/spec';
import type { ImageDataset } from '@graft/datasets';
import { train, type TrainedModel } from '../../packages/engine/src/train.ts';
import { decodeImage } from '../../packages/engine/src/preprocess/index.ts';
import { linearProblem } from '../../packages/engine/src/methods/linear-classifier.ts';
import { meanAndScale } from '../../packages/engine/src/methods/linear-probe.ts';
import { logisticLoss } from '../../packages/engine/src/methods/logistic-regression.ts';
import { DatasetFactory, twoClasses } from './fixtures.ts';

const imageSize = 32;
let data: DatasetFactory;
let target: ImageDataset;
let validation: ImageDataset;

before(async () => {
  data = await DatasetFactory.create();
  target = await data.make({ patterns: twoClasses, perClass: 12, size: 40, seed: 21 });
  validation = await data.make({ patterns: twoClasses, perClass: 4, size: 40, seed: 22 });
});
after(() => data.cleanup());

test('feature_extraction on block ends: evaluation, served model and ONNX export agree', async () => {
  const m = await train({ method: 'feature_extraction', target, validation, hyperparameters: { imageSize, seed: 3 } });
  try {
    assert.equal(m.metadata.hyperparameters.features, 'block_ends');
    // 17 pooled block ends of MobileNetV2 before the last (16 + 24·2 + 32·3 + 64·4 + 96·3 + 160·3 + 320) + 1280
    const cut = m.model.getLayer('graft_block_features');
    assert.deepEqual(cut.outputShape, [null, 2784]);
    assert.ok(m.epochs[0].extra!.folds! >= 2, 'C chosen by cross-validation on this small set');
    await assertServedAgrees(m);
  } finally {
    m.dispose();
  }
});

/** The served model scores the validation images as the training-time evaluation did, and its ONNX export agrees. */
async function assertServedAgrees(m: TrainedModel): Promise<void> {
  const s = m.metadata.preprocessing.imageSize;
  const pixels = await Promise.all(validation.items.map((it) => decodeImage(it.file, m.metadata.preprocessing)));
  const batch = new Float32Array(pixels.length * s * s * 3);
  pixels.forEach((p, i) => batch.set(p, i * s * s * 3));
  const served = tf.tidy(() => (m.model.predict(tf.tensor4d(batch, [pixels.length, s, s, 3])) as tf.Tensor).dataSync() as Float32Array);
  const k = m.labels.length;
  const correct = validation.items.filter((it, i) => m.labels[argMax(served.subarray(i * k, (i + 1) * k))] === it.label).length;
  assert.equal(correct / validation.items.length, m.evaluation.accuracy, 'the served model scores as the training-time evaluation did');
  assert.ok(m.evaluation.accuracy >= 0.8, `validation accuracy ${m.evaluation.accuracy}`);

  await assertOnnxAgrees(m, batch, pixels.length, served);
}

const headWeights = (m: TrainedModel) => m.model.getLayer('graft_head').getWeights().map((w) => w.dataSync());

/**
 * The served head minimises the probe's objective on ALL the labelled images (`batch`: the target's) at C: no
 * more than 1 % above a fit from scratch (to a tighter tolerance) on the served model's own features of every
 * image, `headInput` the layer whose output the head reads. The served fit stops at tolerance 1e-4 (0.3 % above
 * here); the fit without the held-out images is 4.8 % (fine_tune) and 6.5 % (feature_extraction) above.
 */
async function assertProbeFittedOnAll(m: TrainedModel, batch: Float32Array, C: number, headInput: string): Promise<void> {
  const n = target.items.length;
  const s = m.metadata.preprocessing.imageSize;
  // what the probe reads: the block features as the head's compression layers squash them, when it has them
  const read = m.model.layers.some((l) => l.name === 'graft_head_compress') ? 'graft_head_compress' : headInput;
  const [features, logits] = tf.tidy(() => {
    const cut = tf.model({ inputs: m.model.inputs, outputs: [m.model.getLayer(read).output, m.model.getLayer('graft_head').output] as tf.SymbolicTensor[] });
    return cut.predict(tf.tensor4d(batch, [n, s, s, 3])) as tf.Tensor[];
  });
  const x = features.dataSync() as Float32Array;
  const scores = Float64Array.from(logits.dataSync());
  const d = features.shape[1]!;
  tf.dispose([features, logits]);
  const k = m.labels.length;
  const y = Int32Array.from(target.items, (it) => m.labels.indexOf(it.label!));
  const { mean, scale } = meanAndScale(x, n, d);
  const problem = await linearProblem(x.map((v, i) => (v - mean[i % d]) / scale[i % d]), y, d, k, logisticLoss);
  const optimum = await problem.fit({ C, maxIterations: 5000, gradientTolerance: 1e-7 }).finally(() => problem.dispose());
  // the kernel on standardised features: a head with its own standardisation holds it; a folded one is kernel·scale
  const standardised = m.model.layers.some((l) => l.name === 'graft_head_standardise');
  const kernel = m.model.getLayer('graft_head').getWeights()[0].dataSync() as Float32Array;
  const squares = kernel.reduce((a, w, j) => a + (standardised ? w : w * scale[Math.floor(j / k)]) ** 2, 0);
  const objective = logisticLoss.value(scores, y, k) + squares / (2 * C * n);
  assert.ok(objective - optimum.loss < 0.01 * optimum.loss, `served objective ${objective} against the optimum ${optimum.loss} on all ${n} images at C = ${C}`);
}

/** The served model's ONNX export gives its probabilities within 1e-4. */
async function assertOnnxAgrees(m: TrainedModel, batch: Float32Array, n: number, served?: Float32Array): Promise<void> {
  const s = m.metadata.preprocessing.imageSize;
  served ??= tf.tidy(() => (m.model.predict(tf.tensor4d(batch, [n, s, s, 3])) as tf.Tensor).dataSync() as Float32Array);
  const runner = await createOnnxRunner(exportToOnnx(m.model));
  assert.ok(runner, 'ONNX Runtime loads here');
  const onnx = await runner.run(batch, n);
  await runner.dispose();
  const diff = served.reduce((a, v, i) => Math.max(a, Math.abs(v - onnx[i])), 0);
  assert.ok(diff < 1e-4, `ONNX export differs from the served model by ${diff}`);
}

test('feature_extraction with no validation set: scored on its held-out part, served refitted at the chosen C on every labelled image, repeatable', async () => {
  const m = await refittedProbeRun('feature_extraction', { imageSize, seed: 3 });
  try {
    assert.equal(m.evaluation.servedFit!.C, m.epochs[0].extra!.C, 'the C the folds chose');
    await assertOnnxAgrees(m, await pixelsOf(target, m.metadata.preprocessing), target.items.length);
  } finally {
    m.dispose();
  }
});

test('fine_tune with no validation set, when no epoch beats the probe: the probe is served, refitted on every labelled image', async () => {
  // a learning rate so high that the epochs only get worse: early stopping returns to the starting probe (the
  // squashed features bound the head's input, so at 1 or 10 a saturated head still scored the few held-out images)
  const m = await refittedProbeRun('fine_tune', { imageSize, epochs: 2, batchSize: 8, seed: 4, learningRate: 100 });
  m.dispose();
});

/**
 * A run on `target` with no validation set whose served head is a probe: evaluated on the held-out part, served
 * refitted at the recorded C on every labelled image, and the same metrics and served head again with its seed.
 * The caller disposes the run.
 */
async function refittedProbeRun(method: 'feature_extraction' | 'fine_tune', hyperparameters: Hyperparameters): Promise<TrainedModel> {
  const m = await train({ method, target, hyperparameters });
  try {
    const ev = m.evaluation;
    const heldOut = ev.confusionMatrix.matrix.flat().reduce((a, b) => a + b, 0);
    assert.equal(ev.split, 'validation');
    assert.ok(heldOut >= 2 && heldOut < target.items.length, `${heldOut} held-out images`);
    assert.equal(ev.servedEpoch, method === 'fine_tune' ? 0 : 1, 'the served head is the probe');
    assert.equal(ev.servedFit?.refit, true);
    assert.equal(ev.servedFit?.images, target.items.length);
    await assertProbeFittedOnAll(m, await pixelsOf(target, m.metadata.preprocessing), ev.servedFit!.C!, 'graft_block_features');
    const again = await train({ method, target, hyperparameters });
    try {
      assert.deepEqual([again.epochs, again.evaluation], [m.epochs, m.evaluation], 'the same seed, the same metrics');
      assert.deepEqual(headWeights(again), headWeights(m), 'and the same served model');
    } finally {
      again.dispose();
    }
    return m;
  } catch (err) {
    m.dispose();
    throw err;
  }
}

test('feature_extraction with neither backbone nor image size set: InceptionV3 block ends at 299 px, recorded with why, one served model', async () => {
  const m = await train({ method: 'feature_extraction', target, validation, hyperparameters: { seed: 3 } });
  try {
    assert.equal(m.metadata.backbone.id, 'inception_v3');
    const r = m.metadata.resolvedHyperparameters!;
    assert.equal(r.backbone?.value, 'inception_v3');
    assert.match(r.backbone!.why, /24 labelled images/);
    assert.deepEqual([r.imageSize.value, m.metadata.preprocessing.imageSize], [299, 299]);
    // mixed0 … mixed9 pooled (256 + 288·2 + 768·5 + 1280 + 2048) + mixed10's 2048
    assert.deepEqual(m.model.getLayer('graft_block_features').outputShape, [null, 10048]);
    await assertServedAgrees(m);
  } finally {
    m.dispose();
  }
});

/** A logger that keeps the messages train() logs (which runner each pass took). */
function messageLog() {
  const logged: string[] = [];
  const keep = (_o: object | string, msg?: string) => void logged.push(msg ?? '');
  return { logged, logger: { info: keep, warn: keep, debug() {} } };
}

test('fine_tune on InceptionV3 trains its last 2 blocks on ONNX Runtime from the probe, and serves one model', async () => {
  // at its smallest size (75 px) to stay cheap; the default choice of InceptionV3 at 224 px is tested in data-aware-defaults
  const { logged, logger } = messageLog();
  const m = await train({ method: 'fine_tune', backbone: 'inception_v3', target, validation, hyperparameters: { imageSize: 75, seed: 3, epochs: 1, augment: false }, logger });
  try {
    assert.equal(m.metadata.backbone.id, 'inception_v3');
    assert.deepEqual([m.metadata.hyperparameters.trainableBlocks, m.metadata.hyperparameters.linearProbeFirst], [2, true]);
    // Concat and AveragePool (mixed9, mixed10) have gradients there: TF.js cannot train InceptionV3's scale-less BatchNorm
    assert.ok(logged.includes('the trainable suffix runs forward and backward on ONNX Runtime'), logged.join(' | '));
    assert.equal(m.epochs.length, 1);
    await assertServedAgrees(m);
  } finally {
    m.dispose();
  }
});

test('fine_tune by default where blocks train on TF.js (GRAFT_ONNX=off, as on a GPU worker): MobileNetV2, which TF.js can train', async () => {
  const { logged, logger } = messageLog();
  const was = process.env.GRAFT_ONNX;
  process.env.GRAFT_ONNX = 'off';
  try {
    // no backbone and no image size: on ONNX Runtime these few images would take InceptionV3
    const m = await train({ method: 'fine_tune', target, validation, hyperparameters: { seed: 3, epochs: 1, trainableBlocks: 1, augment: false }, logger });
    try {
      assert.equal(m.metadata.backbone.id, 'mobilenet_v2');
      assert.match(m.metadata.resolvedHyperparameters!.backbone!.why, /TF\.js/);
      assert.ok(logged.includes('the trainable suffix runs on TF.js'), logged.join(' | '));
      assert.equal(m.epochs.length, 1);
    } finally {
      m.dispose();
    }
  } finally {
    if (was === undefined) delete process.env.GRAFT_ONNX;
    else process.env.GRAFT_ONNX = was;
  }
});

test("feature_extraction with features 'last_layer' keeps the backbone's own pooled output", async () => {
  const m = await train({ method: 'feature_extraction', target, hyperparameters: { imageSize, seed: 3, features: 'last_layer' } });
  try {
    assert.equal(m.metadata.hyperparameters.features, 'last_layer');
    assert.throws(() => m.model.getLayer('graft_block_features'));
    assert.ok(m.evaluation.accuracy >= 0.8, `validation accuracy ${m.evaluation.accuracy}`);
  } finally {
    m.dispose();
  }
});

test('fine_tune by default: the head reads the frozen block ends beside the trained blocks, starts from the probe, and repeats with its seed', async () => {
  const hp = { imageSize, epochs: 2, batchSize: 8, seed: 4 };
  const m = await train({ method: 'fine_tune', target, validation, hyperparameters: hp });
  try {
    const r = m.metadata.resolvedHyperparameters!;
    assert.deepEqual([r.features.value, r.linearProbeFirst.value, r.trainableBlocks.value], ['block_ends', true, 2]);
    assert.match(r.features.why, /frozen blocks/);
    assert.match(r.linearProbeFirst.why, /linear probe/);
    // the 16 block ends before the cut (everything but block_16 and the last layer: 2784 − 320 − 1280) + 1280
    assert.deepEqual(m.model.getLayer('graft_block_features').outputShape, [null, 1184 + 1280]);
    assert.ok(m.evaluation.accuracy >= 0.8, `validation accuracy ${m.evaluation.accuracy}`);

    const batch = await pixelsOf(validation, m.metadata.preprocessing);
    const served = tf.tidy(() => (m.model.predict(tf.tensor4d(batch, [validation.items.length, imageSize, imageSize, 3])) as tf.Tensor).dataSync() as Float32Array);
    const k = m.labels.length;
    const correct = validation.items.filter((it, i) => m.labels[argMax(served.subarray(i * k, (i + 1) * k))] === it.label).length;
    assert.equal(correct / validation.items.length, m.evaluation.accuracy, 'the served model scores as the cached training path did');
    const runner = await createOnnxRunner(exportToOnnx(m.model));
    assert.ok(runner, 'ONNX Runtime loads here');
    const onnx = await runner.run(batch, validation.items.length);
    await runner.dispose();
    const diff = served.reduce((a, v, i) => Math.max(a, Math.abs(v - onnx[i])), 0);
    assert.ok(diff < 1e-4, `ONNX export differs from the served model by ${diff}`);

    const again = await train({ method: 'fine_tune', target, validation, hyperparameters: hp });
    try {
      assert.deepEqual(again.epochs, m.epochs, 'the same seed repeats every epoch');
      assert.deepEqual(again.evaluation, m.evaluation);
    } finally {
      again.dispose();
    }
  } finally {
    m.dispose();
  }
});

async function pixelsOf(ds: ImageDataset, preprocessing: Parameters<typeof decodeImage>[1]): Promise<Float32Array> {
  const s = preprocessing.imageSize;
  const pixels = await Promise.all(ds.items.map((it) => decodeImage(it.file, preprocessing)));
  const batch = new Float32Array(pixels.length * s * s * 3);
  pixels.forEach((p, i) => batch.set(p, i * s * s * 3));
  return batch;
}

function argMax(p: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
  return best;
}

// feature_extraction's linear classifiers: the products on ONNX Runtime and on TF.js give the same fit, the fit
// reaches the gradient tolerance, a warm start (the C path) lands on the same optimum as a cold one, and the
// probe judges C on a large enough validation set instead of folds of the training data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { fitLinearProbe } from '../../packages/engine/src/methods/linear-probe.ts';
import type { ExampleSet } from '../../packages/engine/src/methods/example-set.ts';
import { linearProblem, type LinearFit, type LinearLoss } from '../../packages/engine/src/methods/linear-classifier.ts';
import { logisticLoss } from '../../packages/engine/src/methods/logistic-regression.ts';
import { squaredHingeLoss } from '../../packages/engine/src/methods/linear-svm.ts';
import { seededRandom } from '../../packages/engine/src/methods/seeded-random.ts';
import { initBackend } from '../../packages/engine/src/runtime/backend.ts';

/** n points in d dimensions around k class centres, standardised-looking (unit-scale noise). */
function blobs(n: number, d: number, k: number, seed: number) {
  const rand = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const centres = Array.from({ length: k }, () => Float32Array.from({ length: d }, () => gauss()));
  const x = new Float32Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % k;
    for (let j = 0; j < d; j++) x[i * d + j] = 0.5 * centres[y[i]][j] + gauss();
  }
  return { x, y };
}

// tighter than the method's 1e-4 so that two fits of the same problem must agree closely
const options = { maxIterations: 2000, gradientTolerance: 1e-6 };
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

async function fitWith(onnx: boolean, x: Float32Array, y: Int32Array, d: number, k: number, loss: LinearLoss, C: number, warmStart?: LinearFit) {
  const saved = process.env.GRAFT_ONNX;
  if (!onnx) process.env.GRAFT_ONNX = 'off';
  try {
    const problem = await linearProblem(x, y, d, k, loss);
    try {
      return await problem.fit({ ...options, C, warmStart });
    } finally {
      await problem.dispose();
    }
  } finally {
    if (saved === undefined) delete process.env.GRAFT_ONNX;
    else process.env.GRAFT_ONNX = saved;
  }
}

test('logistic and squared-hinge fits converge to the same weights with ONNX Runtime and TF.js products', async () => {
  await initBackend();
  const [n, d, k] = [300, 40, 4];
  const { x, y } = blobs(n, d, k, 7);
  for (const loss of [logisticLoss, squaredHingeLoss]) {
    const viaOrt = await fitWith(true, x, y, d, k, loss, 0.1);
    const viaTf = await fitWith(false, x, y, d, k, loss, 0.1);
    assert.ok(viaOrt.converged && viaTf.converged);
    assert.ok(Math.abs(viaOrt.loss - viaTf.loss) < 1e-7, `objective ${viaOrt.loss} vs ${viaTf.loss}`);
    assert.ok(maxDiff(viaOrt.kernel, viaTf.kernel) < 1e-3, `kernel differs by ${maxDiff(viaOrt.kernel, viaTf.kernel)}`);
  }
});

test('a warm start from a neighbouring C reaches the cold start optimum in fewer iterations', async () => {
  await initBackend();
  const [n, d, k] = [400, 60, 5];
  const { x, y } = blobs(n, d, k, 11);
  const strong = await fitWith(true, x, y, d, k, logisticLoss, 0.01);
  const cold = await fitWith(true, x, y, d, k, logisticLoss, 0.1);
  const warm = await fitWith(true, x, y, d, k, logisticLoss, 0.1, strong);
  assert.ok(cold.converged && warm.converged);
  assert.ok(Math.abs(cold.loss - warm.loss) < 1e-7, `objective ${cold.loss} vs ${warm.loss}`);
  assert.ok(warm.iterations < cold.iterations, `warm ${warm.iterations} vs cold ${cold.iterations} iterations`);
  // the optimum classifies the (separable-ish) training blobs well
  let hits = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    const score = (c: number) => {
      let s = warm.bias[c];
      for (let j = 0; j < d; j++) s += x[i * d + j] * warm.kernel[j * k + c];
      return s;
    };
    for (let c = 1; c < k; c++) if (score(c) > score(best)) best = c;
    hits += best === y[i] ? 1 : 0;
  }
  assert.ok(hits / n > 0.9, `training accuracy ${hits / n}`);
});

test('the probe judges C on a validation set of 200+ images when the training data is beyond cross-validation, else by folds', async () => {
  await initBackend();
  const [d, k] = [30, 4];
  const { x, y } = blobs(1700, d, k, 5);
  const set = (from: number, to: number): ExampleSet => ({ views: [x.slice(from * d, to * d)], shape: [d], count: to - from, labels: y.slice(from, to) });
  // everything frozen: the suffix hands the features through (a copy: the caller disposes its input)
  const identity = { predict: async (t: tf.Tensor) => t.clone() as tf.Tensor2D };
  const probe = (train: ExampleSet, validation: ExampleSet) => fitLinearProbe(identity, train, k, { loss: logisticLoss, validation, batchSize: 256, rand: seededRandom(1) });
  const accuracy = (p: Awaited<ReturnType<typeof probe>>, s: ExampleSet) => {
    let hits = 0;
    for (let i = 0; i < s.count; i++) {
      const score = (c: number) => s.views[0].subarray(i * d, (i + 1) * d).reduce((a, v, j) => a + v * p.kernel[j * k + c], p.bias[c]);
      let best = 0;
      for (let c = 1; c < k; c++) if (score(c) > score(best)) best = c;
      hits += best === s.labels![i] ? 1 : 0;
    }
    return hits / s.count;
  };
  const large = await probe(set(0, 1200), set(1200, 1500));
  assert.deepEqual([large.folds, large.heldOutImages], [1, 300], 'the validation set is the one held-out part');
  assert.ok(large.fit.converged, 'the chosen fit continues to the tolerance');
  assert.ok(accuracy(large, set(1500, 1700)) > 0.9, `held-out accuracy ${accuracy(large, set(1500, 1700))}`);
  // 400 training images and a validation set of 100: 5 folds of the training data judge C
  const small = await probe(set(0, 400), set(1200, 1300));
  assert.deepEqual([small.folds, small.heldOutImages], [5, 400]);
  // a validation set as large as the training data judges C even on small data
  const equal = await probe(set(0, 250), set(1200, 1500));
  assert.deepEqual([equal.folds, equal.heldOutImages], [1, 300]);
  // without one, large training data holds out a stratified fifth of itself
  const fifth = await fitLinearProbe(identity, set(0, 1200), k, { loss: logisticLoss, batchSize: 256, rand: seededRandom(1) });
  assert.deepEqual([fifth.folds, fifth.heldOutImages], [1, 240]);
});

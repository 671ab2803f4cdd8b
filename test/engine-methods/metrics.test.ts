// Metrics on small examples worked out by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracy, confusionMatrix, evaluate, perClassMetrics, macroF1, topKAccuracy } from '../../packages/engine/src/metrics/index.ts';

// truth:     a a a b b c
// predicted: a a b b c c
const yTrue = [0, 0, 0, 1, 1, 2];
const yPred = [0, 0, 1, 1, 2, 2];
const labels = ['a', 'b', 'c'];

test('confusion matrix counts [true][predicted]', () => {
  assert.deepEqual(confusionMatrix(yTrue, yPred, 3), [
    [2, 1, 0],
    [0, 1, 1],
    [0, 0, 1],
  ]);
  assert.equal(accuracy(yTrue, yPred), 4 / 6);
});

test('per-class precision, recall, F1, support and macro-F1', () => {
  const m = confusionMatrix(yTrue, yPred, 3);
  const pc = perClassMetrics(m, labels);
  // a: P 2/2, R 2/3, F1 0.8; b: P 1/2, R 1/2, F1 0.5; c: P 1/2, R 1/1, F1 2/3
  assert.deepEqual(pc.map((c) => c.support), [3, 2, 1]);
  assert.ok(Math.abs(pc[0].precision - 1) < 1e-12 && Math.abs(pc[0].recall - 2 / 3) < 1e-12 && Math.abs(pc[0].f1 - 0.8) < 1e-12);
  assert.ok(Math.abs(pc[1].f1 - 0.5) < 1e-12);
  assert.ok(Math.abs(pc[2].precision - 0.5) < 1e-12 && Math.abs(pc[2].f1 - 2 / 3) < 1e-12);
  assert.ok(Math.abs(macroF1(pc, m) - (0.8 + 0.5 + 2 / 3) / 3) < 1e-12);
});

test('a class never predicted and never true does not dilute macro-F1; 0/0 counts as 0', () => {
  const m = confusionMatrix([0, 1], [0, 0], 3);
  const pc = perClassMetrics(m, labels);
  assert.equal(pc[1].precision, 0);
  assert.equal(pc[1].f1, 0);
  // classes a (F1 2/3) and b (F1 0) count; c is absent everywhere
  assert.ok(Math.abs(macroF1(pc, m) - 1 / 3) < 1e-12);
});

test('top-k accuracy and the full evaluation', () => {
  const probs = new Float32Array([
    0.7, 0.2, 0.1, // true 0: top-1
    0.5, 0.3, 0.2, // true 1: rank 2
    0.6, 0.3, 0.1, // true 2: rank 3
    0.1, 0.1, 0.8, // true 2: top-1
  ]);
  const y = [0, 1, 2, 2];
  assert.equal(topKAccuracy(probs, y, 3, 1), 0.5);
  assert.equal(topKAccuracy(probs, y, 3, 2), 0.75);
  const e = evaluate(probs, y, labels, 'validation');
  assert.equal(e.split, 'validation');
  assert.equal(e.accuracy, 0.5);
  assert.deepEqual(Object.keys(e.topK), ['1']); // top-3 of 3 classes is always 1: not reported
  assert.deepEqual(e.confusionMatrix.matrix, [
    [1, 0, 0],
    [1, 0, 0],
    [1, 0, 1],
  ]);
  assert.deepEqual(e.perClass.map((c) => c.support), [1, 1, 2]);
});

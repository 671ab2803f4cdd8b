// Each transfer method trains through train() on the real pretrained MobileNetV2 (small images, few epochs)
// and learns: held-out accuracy well above chance on separable classes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { train } from '../../packages/engine/src/train.ts';
import { DatasetFactory, otherTwoClasses, twoClasses } from './fixtures.ts';
import type { ImageDataset } from '@graft/datasets';

const imageSize = 64;
let data: DatasetFactory;
let target: ImageDataset;

before(async () => {
  data = await DatasetFactory.create();
  target = await data.make({ patterns: twoClasses, perClass: 15, size: 48, seed: 11 });
});
after(() => data.cleanup());

test('fine_tune learns two classes and reports per-epoch metrics', async () => {
  const m = await train({ method: 'fine_tune', target, hyperparameters: { imageSize, epochs: 4, batchSize: 8, seed: 1 } });
  try {
    assert.deepEqual(m.labels, ['green_circle', 'red_square']);
    assert.equal(m.evaluation.split, 'validation');
    // stratified 0.2 hold-out of 15 per class = 3 per class
    assert.equal(m.evaluation.perClass.reduce((a, c) => a + c.support, 0), 6);
    assert.ok(m.evaluation.accuracy >= 0.8, `validation accuracy ${m.evaluation.accuracy}`);
    assert.ok(m.epochs.length >= 1 && m.epochs.every((e) => Number.isFinite(e.loss) && e.valAccuracy !== null));
    assert.equal(m.metadata.hyperparameters.trainableBlocks, 2);
    assert.equal(m.metadata.hyperparameters.augment, true);
    // the served model maps images to probabilities over the labels
    const p = m.model.predict(tf.zeros([1, imageSize, imageSize, 3])) as tf.Tensor;
    assert.deepEqual(p.shape, [1, 2]);
    assert.ok(Math.abs(p.sum().dataSync()[0] - 1) < 1e-5);
    p.dispose();
  } finally {
    m.dispose();
  }
});

test('fine_tune with a frozen backbone (trainableBlocks 0) learns through its head alone', async () => {
  // on the last layer the head starts at random (with block ends it would start as the converged probe)
  const m = await train({ method: 'fine_tune', target, hyperparameters: { imageSize, epochs: 20, batchSize: 8, trainableBlocks: 0, augment: false, learningRate: 1e-2, seed: 1, features: 'last_layer' } });
  try {
    assert.ok(m.evaluation.accuracy >= 0.8, `validation accuracy ${m.evaluation.accuracy}`);
    assert.ok(m.epochs.at(-1)!.loss < m.epochs[0].loss, 'the training loss falls');
  } finally {
    m.dispose();
  }
});

for (const classifier of ['logistic', 'svm'] as const) {
  test(`feature_extraction (${classifier}) learns two classes`, async () => {
    const m = await train({ method: 'feature_extraction', target, hyperparameters: { imageSize, classifier, seed: 1 } });
    try {
      assert.ok(m.evaluation.accuracy >= 0.8, `validation accuracy ${m.evaluation.accuracy}`);
      assert.equal(m.epochs.length, 1);
      assert.equal(m.epochs[0].extra?.converged, 1, 'the linear classifier converged');
      assert.equal(m.metadata.hyperparameters.trainableBlocks, 0);
    } finally {
      m.dispose();
    }
  });
}

test('multi_task learns the target task with a source task beside it', async () => {
  const source = await data.make({ patterns: otherTwoClasses, perClass: 15, size: 48, seed: 12 });
  const m = await train({ method: 'multi_task', target, source, hyperparameters: { imageSize, epochs: 4, batchSize: 8, seed: 1 } });
  try {
    assert.deepEqual(m.labels, ['green_circle', 'red_square'], 'the served model predicts the target classes');
    assert.ok(m.evaluation.accuracy >= 0.8, `target validation accuracy ${m.evaluation.accuracy}`);
    const last = m.epochs.at(-1)!;
    assert.ok(last.extra && Number.isFinite(last.extra.sourceLoss!) && Number.isFinite(last.extra.targetLoss!));
  } finally {
    m.dispose();
  }
});

test('domain_adaptation (DANN) reports domain loss/accuracy per epoch and target accuracy from target labels', async () => {
  const source = await data.make({ patterns: twoClasses, perClass: 15, size: 48, seed: 13 });
  // the shifted domain: dark background, more noise; labels present only to evaluate
  const shifted = await data.make({ patterns: twoClasses, perClass: 10, size: 48, seed: 14, background: 30, noise: 45, requireLabels: false });
  const m = await train({ method: 'domain_adaptation', target: shifted, source, hyperparameters: { imageSize, epochs: 4, batchSize: 8, seed: 1 } });
  try {
    assert.equal(m.epochs.length, 4, 'no early stopping by default for DANN');
    for (const e of m.epochs) {
      for (const k of ['labelLoss', 'domainLoss', 'domainAccuracy', 'targetAccuracy', 'lambda']) {
        assert.ok(typeof e.extra?.[k] === 'number' && Number.isFinite(e.extra[k]), `epoch ${e.epoch} reports ${k}`);
      }
    }
    assert.ok(m.epochs[0].extra!.lambda! < m.epochs[3].extra!.lambda!, 'λ ramps up');
    // the paper's annealed SGD starts from μ0 = 0.01 unless the user sets a rate
    assert.equal(m.metadata.hyperparameters.learningRate, 0.01);
    assert.equal(m.evaluation.split, 'target');
    assert.equal(m.evaluation.perClass.reduce((a, c) => a + c.support, 0), 20);
    assert.ok(m.evaluation.accuracy >= 0.8, `target accuracy ${m.evaluation.accuracy}`);
  } finally {
    m.dispose();
  }
});

// Early stopping: training stops `patience` epochs after the best validation loss and the model ends with the
// best epoch's weights, not the last ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { runTrainingLoop } from '../../packages/engine/src/methods/training-loop.ts';
import { stratifiedSplit } from '../../packages/engine/src/methods/validation-split.ts';
import { seededRandom } from '../../packages/engine/src/methods/seeded-random.ts';

test('stops after `patience` epochs without improvement and restores the best weights', async () => {
  await tf.setBackend('cpu');
  const layer = tf.layers.dense({ units: 1, useBias: false, kernelInitializer: 'zeros' });
  layer.apply(tf.zeros([1, 1]));
  const [w] = layer.trainableWeights;
  const valLosses = [1.0, 0.5, 0.7, 0.8, 0.9, 0.95];
  const result = await runTrainingLoop({
    epochs: valLosses.length,
    patience: 2,
    stepsPerEpoch: 1,
    // the "training" writes the epoch number into the weight, so the restored value names its epoch
    step: (epoch) => {
      w.write(tf.fill([1, 1], epoch));
      return { metrics: { loss: tf.scalar(1 / epoch) }, batchSize: 1 };
    },
    validate: () => {
      const epoch = w.read().dataSync()[0];
      return { valLoss: valLosses[epoch - 1], valAccuracy: null };
    },
    weights: [w],
  });
  assert.equal(result.epochs.length, 4, 'epochs 3 and 4 did not improve on epoch 2: stop after 4');
  assert.equal(result.stoppedEarly, true);
  assert.equal(result.bestEpoch, 2);
  assert.equal(w.read().dataSync()[0], 2, 'the weights are epoch 2’s');
  assert.deepEqual(result.epochs.map((e) => e.valLoss), [1.0, 0.5, 0.7, 0.8]);
  layer.dispose();
});

test('stratified split: every class in both parts, same seed same split', () => {
  const labels = [...Array(10).fill(0), ...Array(5).fill(1), ...Array(2).fill(2)];
  const a = stratifiedSplit(labels, 0.2, seededRandom(1));
  const b = stratifiedSplit(labels, 0.2, seededRandom(1));
  assert.deepEqual(a, b);
  const count = (idx: number[], c: number) => idx.filter((i) => labels[i] === c).length;
  assert.deepEqual([0, 1, 2].map((c) => count(a.validation, c)), [2, 1, 1]);
  assert.deepEqual([0, 1, 2].map((c) => count(a.train, c)), [8, 4, 1]);
  assert.equal(new Set([...a.train, ...a.validation]).size, labels.length);
  // too little data to hold anything out
  assert.deepEqual(stratifiedSplit([0, 0, 1, 1], 0.2, seededRandom(1)).validation, []);
});

// The final evaluation reuses the last validation pass's class probabilities only while every weight the
// classifier reads still holds the tensor it held then: a step, an early-stopping restore or a write to the head
// makes it compute again, and what it returns is what a fresh pass computes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../packages/engine/src/runtime/backend.ts';
import { classifierForward, predictProbabilities } from '../../packages/engine/src/methods/classifier-forward.ts';
import { softmaxHead } from '../../packages/engine/src/methods/heads.ts';
import { tfjsSuffixRunner } from '../../packages/engine/src/suffix/index.ts';
import type { ExampleSet } from '../../packages/engine/src/methods/example-set.ts';

test('predictProbabilities reuses a pass only for the same weight tensors', async () => {
  await initBackend();
  const input = tf.input({ shape: [4] });
  const suffix = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 3, name: 'block', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tf.SymbolicTensor });
  const runner = tfjsSuffixRunner(suffix);
  const head = softmaxHead('head', 3, 2, 2);
  const set: ExampleSet = { views: [Float32Array.from({ length: 40 }, (_, i) => Math.sin(i))], shape: [4], count: 10, labels: new Int32Array(10) };
  let passes = 0;
  const counted = classifierForward(runner, head);
  const forward = Object.assign((x: tf.Tensor, side?: tf.Tensor2D | null) => (passes++, counted(x, side)), { weights: counted.weights });
  try {
    const first = await predictProbabilities(set, forward, 32);
    assert.deepEqual(await predictProbabilities(set, forward, 32), first);
    assert.equal(passes, 1, 'the same weights: no second pass');
    // the evaluation's own forward over the same runner and head reuses it too
    assert.deepEqual(await predictProbabilities(set, classifierForward(runner, head), 32), first);
    assert.equal(passes, 1);

    const [kernel] = suffix.trainableWeights;
    kernel!.write(tf.mul(kernel!.read(), 2));
    const changed = await predictProbabilities(set, forward, 32);
    assert.equal(passes, 2, 'a block weight written: computed again');
    assert.notDeepEqual(changed, first);

    const snapshot = head.trainableWeights.map((w) => w.read().clone());
    head.trainableWeights[0]!.write(tf.zerosLike(head.trainableWeights[0]!.read()));
    await predictProbabilities(set, forward, 32);
    assert.equal(passes, 3, 'a head weight written: computed again');
    head.trainableWeights.forEach((w, i) => w.write(snapshot[i]!));
    assert.deepEqual(await predictProbabilities(set, forward, 32), changed, 'restored weights give the restored numbers');
    assert.equal(passes, 4);
    tf.dispose(snapshot);
  } finally {
    head.dispose();
    suffix.dispose();
  }
});

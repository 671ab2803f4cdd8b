// What a user relies on around any training run: the same seed gives the same run, a cancel stops it within a
// batch, memory does not grow with epochs, and a saved checkpoint predicts exactly what the trained model did.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { GraftError } from '@graft/spec';
import type { ImageDataset } from '@graft/datasets';
import { train } from '../../packages/engine/src/train.ts';
import { loadCheckpoint } from '../../packages/engine/src/checkpoint/index.ts';
import { decodeImage } from '../../packages/engine/src/preprocess/index.ts';
import { DatasetFactory, twoClasses } from './fixtures.ts';

const hyperparameters = { imageSize: 64, epochs: 3, batchSize: 8, seed: 5 };
let data: DatasetFactory;
let target: ImageDataset;

before(async () => {
  data = await DatasetFactory.create();
  target = await data.make({ patterns: twoClasses, perClass: 12, size: 48, seed: 21 });
});
after(() => data.cleanup());

test('the same seed reproduces the same metrics; another seed does not', async () => {
  const run = async (seed: number) => {
    const m = await train({ method: 'fine_tune', target, hyperparameters: { ...hyperparameters, seed } });
    m.dispose();
    return { epochs: m.epochs, evaluation: m.evaluation };
  };
  const a = await run(5);
  const b = await run(5);
  assert.deepEqual(a, b);
  const c = await run(6);
  assert.notDeepEqual(a.epochs.map((e) => e.loss), c.epochs.map((e) => e.loss));
});

test('no tensor leak: the tensor count is flat across epochs and back to its start after dispose', async () => {
  const start = tf.memory().numTensors;
  const perEpoch: number[] = [];
  const m = await train({
    method: 'multi_task',
    target,
    source: target,
    hyperparameters: { ...hyperparameters, epochs: 4, earlyStoppingPatience: 0 },
    onEpoch: () => void perEpoch.push(tf.memory().numTensors),
  });
  m.dispose();
  assert.equal(perEpoch.length, 4);
  // epoch 1 creates the optimiser state; from then on nothing may accumulate
  assert.deepEqual(perEpoch.slice(1), [perEpoch[1], perEpoch[1], perEpoch[1]], `tensors per epoch ${perEpoch}`);
  assert.equal(tf.memory().numTensors, start, 'everything freed after dispose');
  const fe = await train({ method: 'feature_extraction', target, hyperparameters: { imageSize: 64, seed: 5 } });
  fe.dispose();
  assert.equal(tf.memory().numTensors, start, 'feature_extraction frees everything too');
});

for (const method of ['fine_tune', 'feature_extraction'] as const) {
  test(`cancellation (${method}) stops within a batch with GraftError('cancelled')`, async () => {
    const controller = new AbortController();
    let trainingCalls = 0;
    let trainingCallsAfterAbort = 0;
    const start = tf.memory().numTensors;
    await assert.rejects(
      train({
        method,
        target,
        hyperparameters: method === 'fine_tune' ? hyperparameters : { imageSize: 64, seed: 5 },
        signal: controller.signal,
        onProgress: (_f, stage) => {
          if (stage !== 'training') return;
          // call 1 announces the stage, call 2 follows the first batch (or L-BFGS iteration): abort there
          if (controller.signal.aborted) trainingCallsAfterAbort++;
          else if (++trainingCalls === 2) controller.abort();
        },
      }),
      (err: unknown) => err instanceof GraftError && err.code === 'cancelled',
    );
    // no further batch (iteration) ran after the abort
    assert.equal(trainingCalls, 2);
    assert.equal(trainingCallsAfterAbort, 0);
    assert.equal(tf.memory().numTensors, start, 'a cancelled run frees its tensors');
  });
}

test('checkpoint round-trip: save, loadCheckpoint, same predictions and metadata', async () => {
  const m = await train({ method: 'fine_tune', target, hyperparameters: { ...hyperparameters, epochs: 1 } });
  const dir = await mkdtemp(path.join(tmpdir(), 'graft-ckpt-'));
  try {
    await m.save(dir);
    assert.deepEqual((await readdir(dir)).sort(), ['metadata.json', 'model.json', 'weights.bin']);
    const loaded = await loadCheckpoint(dir);
    assert.deepEqual(loaded.metadata.labels, m.labels);
    assert.deepEqual(loaded.metadata.preprocessing, { imageSize: 64, pixelRange: [0, 1], resize: 'cover' });
    assert.equal(loaded.metadata.method, 'fine_tune');
    assert.equal(loaded.metadata.hyperparameters.seed, 5);
    // real images decoded the way /predict decodes them, with the checkpoint's own preprocessing
    const files = target.items.slice(0, 4).map((it) => it.file);
    const pixels = await Promise.all(files.map((f) => decodeImage(f, loaded.metadata.preprocessing)));
    const x = tf.tensor4d(Float32Array.from(pixels.flatMap((p) => Array.from(p))), [4, 64, 64, 3]);
    const before = m.model.predict(x) as tf.Tensor;
    const afterLoad = loaded.model.predict(x) as tf.Tensor;
    const diff = tf.max(tf.abs(before.sub(afterLoad))).dataSync()[0];
    assert.ok(diff < 1e-6, `max abs difference ${diff}`);
    tf.dispose([x, before, afterLoad]);
    loaded.model.dispose();
  } finally {
    m.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});

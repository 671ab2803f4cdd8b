import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { InferencePool } from '../../packages/serving/src/inference-pool.ts';
import { ModelCache } from '../../packages/serving/src/model-cache.ts';
import { readCheckpoint } from '../../packages/serving/src/checkpoint-files.ts';
import { makeTinyCheckpoint, readFromFiles } from '../support/tiny-checkpoint.ts';
import { mulberry32 } from '../support/images.ts';

function randomImages(n: number, size: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: n * size * size * 3 }, () => rand());
}

for (const runner of ['tfjs', 'onnx'] as const) {
test(`the pool runs a checkpoint in worker threads (${runner}), batches concurrent requests and matches TF.js in-process`, async () => {
  const tiny = await makeTinyCheckpoint({ imageSize: 32 });
  const cache = new ModelCache({ load: async () => readCheckpoint(readFromFiles(tiny.files), 'x/'), maxModels: 1, maxBytes: 1e9 });
  const pool = new InferencePool({ threads: 2, maxBatch: 16, onnx: runner === 'onnx' });
  try {
    const model = await cache.get('job');
    const images = randomImages(20, 32, 1);
    const expected = (tf.tidy(() => tiny.model.predict(tf.tensor4d(images, [20, 32, 32, 3])) as tf.Tensor).dataSync()) as Float32Array;

    // 20 single-image requests at once: answered in order, fewer forward passes than requests
    const per = 32 * 32 * 3;
    const outputs = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run(model, images.slice(i * per, (i + 1) * per), 1)));
    const got = Float32Array.from(outputs.flatMap((o) => [...o]));
    assert.equal(got.length, expected.length);
    for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i]! - expected[i]!) < 1e-4, `output ${i}: ${got[i]} vs ${expected[i]}`);
    assert.equal(pool.stats.images, 20);
    assert.ok(pool.stats.batches < 20, `20 concurrent requests ran in ${pool.stats.batches} batches`);
    assert.equal(pool.stats.runner, runner);
    assert.equal(pool.stats.backend, 'wasm');

    // a released model is loaded again by the threads on its next use
    pool.release(model.key);
    const again = await pool.run(model, images.slice(0, per), 1);
    assert.ok(Math.abs(again[0]! - expected[0]!) < 1e-4);
  } finally {
    await pool.close();
  }
});
}

test('inference does not block the event loop', async () => {
  const tiny = await makeTinyCheckpoint({ imageSize: 64 });
  const cache = new ModelCache({ load: async () => readCheckpoint(readFromFiles(tiny.files), 'x/'), maxModels: 1, maxBytes: 1e9 });
  const pool = new InferencePool({ threads: 1, maxBatch: 64, onnx: false });
  try {
    const model = await cache.get('job');
    const input = randomImages(64, 64, 3);
    await pool.run(model, input.slice(0, 64 * 64 * 3), 1); // warm up the thread
    // While one large batch is computed, timers keep firing: the forward pass is not on this thread.
    // (Run synchronously here, not one tick could fire until it returned.)
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const started = performance.now();
    await pool.run(model, input, 64);
    const busyMs = performance.now() - started;
    clearInterval(timer);
    assert.ok(ticks >= 3, `only ${ticks} timer ticks during ${busyMs.toFixed(0)} ms of inference`);
  } finally {
    await pool.close();
  }
});

test('a thread that dies fails only its own batch and is replaced', async () => {
  const tiny = await makeTinyCheckpoint({ imageSize: 32 });
  const cache = new ModelCache({ load: async () => readCheckpoint(readFromFiles(tiny.files), 'x/'), maxModels: 1, maxBytes: 1e9 });
  const pool = new InferencePool({ threads: 1, maxBatch: 8, onnx: false });
  try {
    const model = await cache.get('job');
    await pool.run(model, randomImages(1, 32, 1), 1);
    const threads = (pool as unknown as { slots: { worker: { terminate(): Promise<number> } }[] }).slots;
    const inFlight = pool.run(model, randomImages(4, 32, 2), 4);
    await threads[0]!.worker.terminate(); // as if the thread crashed mid-batch
    await assert.rejects(inFlight, /inference thread/);
    const after = await pool.run(model, randomImages(2, 32, 3), 2);
    assert.equal(after.length, 2 * tiny.labels.length);
  } finally {
    await pool.close();
  }
});

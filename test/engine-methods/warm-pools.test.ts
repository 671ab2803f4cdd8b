// A worker keeps the frozen prefix's pool (threads, ONNX Runtime sessions, export) warm between jobs: the second
// run on the same backbone, size and blocks reuses it and trains exactly as a cold run does.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ImageDataset } from '@graft/datasets';
import { keepPrefixPoolsWarm, reservePrefixThreads, reservedPrefixThreads } from '../../packages/engine/src/activations/index.ts';
import { train, type EngineLogger } from '../../packages/engine/src/train.ts';
import { DatasetFactory, twoClasses } from './fixtures.ts';

const hyperparameters = { imageSize: 32, epochs: 1, batchSize: 8, seed: 2, trainableBlocks: 1, augment: false };
let data: DatasetFactory;
let target: ImageDataset;
before(async () => {
  data = await DatasetFactory.create();
  target = await data.make({ patterns: twoClasses, perClass: 20, size: 32, seed: 8 }); // 40 images: a pool of 2 threads
});
after(async () => {
  reservePrefixThreads(0);
  await keepPrefixPoolsWarm({ maxPools: 0, maxBytes: 0 }); // closes what is still warm
  await data.cleanup();
});

async function run(): Promise<{ warm: boolean; result: unknown }> {
  let warm = false;
  const logger: EngineLogger = { info: (_o, msg) => (warm ||= msg === 'prefix pool reused from the previous run'), warn() {}, debug() {} };
  const m = await train({ method: 'fine_tune', target, hyperparameters, logger });
  m.dispose();
  return { warm, result: { epochs: m.epochs, evaluation: m.evaluation } };
}

test('the second run reuses the warm pool and gets the same result; with warm pools off nothing is reused', async () => {
  await keepPrefixPoolsWarm({ maxPools: 0, maxBytes: 0 });
  const cold = await run();
  assert.equal(cold.warm, false);
  await keepPrefixPoolsWarm({ maxPools: 1, maxBytes: 1 << 30 });
  const first = await run();
  const second = await run();
  assert.equal(first.warm, false);
  assert.equal(second.warm, true);
  assert.deepEqual(second.result, cold.result);
  assert.deepEqual(first.result, cold.result);
  // another size is another prefix: a new pool, the old one is evicted (one kept)
  const m = await train({ method: 'fine_tune', target, hyperparameters: { ...hyperparameters, imageSize: 64 } });
  m.dispose();
  assert.equal((await run()).warm, false);
});

test('a byte bound smaller than one pool keeps none', async () => {
  await keepPrefixPoolsWarm({ maxPools: 4, maxBytes: 1024 });
  await run();
  assert.equal((await run()).warm, false);
});

test('a cold pool that starts from threads booted in reserve trains exactly as one that boots its own', async () => {
  await keepPrefixPoolsWarm({ maxPools: 0, maxBytes: 0 });
  const own = await run();
  reservePrefixThreads(2);
  await new Promise((resolve) => setTimeout(resolve, 2000)); // let them boot, as between a service's jobs
  const reserved = await run();
  reservePrefixThreads(2); // topped up again for the next run
  const again = await run();
  assert.equal(reserved.warm, false);
  assert.deepEqual(reserved.result, own.result);
  assert.deepEqual(again.result, own.result);
});

test('a cold pool that evicts the idle one runs on its recycled threads and trains exactly as on fresh ones', async () => {
  await keepPrefixPoolsWarm({ maxPools: 0, maxBytes: 0 });
  const other = { ...hyperparameters, imageSize: 64 };
  const fresh = await train({ method: 'fine_tune', target, hyperparameters: other });
  fresh.dispose();
  reservePrefixThreads(2);
  await keepPrefixPoolsWarm({ maxPools: 1, maxBytes: 1 << 30 });
  await run(); // its pool takes the reserve's threads and stays idle
  assert.equal(reservedPrefixThreads(), 0);
  // another prefix: the idle pool is closed first and its two threads, booted, serve the new one
  const recycled = await train({ method: 'fine_tune', target, hyperparameters: other });
  recycled.dispose();
  assert.equal(reservedPrefixThreads(), 0);
  assert.deepEqual({ epochs: recycled.epochs, evaluation: recycled.evaluation }, { epochs: fresh.epochs, evaluation: fresh.evaluation });
  // warm pools off: the last pool's threads go back to the reserve, which keeps two
  await keepPrefixPoolsWarm({ maxPools: 0, maxBytes: 0 });
  assert.equal(reservedPrefixThreads(), 2);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelCache } from '../../packages/serving/src/model-cache.ts';
import { readCheckpoint } from '../../packages/serving/src/checkpoint-files.ts';
import { checkpointPrefix } from '@graft/storage';
import { makeTinyCheckpoint } from '../support/tiny-checkpoint.ts';

// An in-memory object store with the storage layout jobs/<id>/model/…, counting reads.
async function storeWith(jobIds: string[]) {
  const objects = new Map<string, Buffer>();
  for (const id of jobIds) {
    const { files } = await makeTinyCheckpoint({ seed: jobIds.indexOf(id) + 1 });
    for (const [name, bytes] of files) objects.set(checkpointPrefix(id) + name, bytes);
  }
  let reads = 0;
  const read = async (key: string) => {
    reads++;
    await new Promise((r) => setTimeout(r, 5));
    const bytes = objects.get(key);
    if (!bytes) throw new Error(`no such key ${key}`);
    return bytes;
  };
  return { read, reads: () => reads };
}

test('a loaded model is reused: warm gets and concurrent gets do not touch storage again', async () => {
  const store = await storeWith(['a']);
  const cache = new ModelCache({ load: (id) => readCheckpoint(store.read, checkpointPrefix(id)), maxModels: 4, maxBytes: 1e9 });
  const [m1, m2, m3] = await Promise.all([cache.get('a'), cache.get('a'), cache.get('a')]);
  assert.equal(m1, m2);
  assert.equal(m2, m3);
  const readsAfterLoad = store.reads();
  assert.equal(readsAfterLoad, 4, 'model.json, metadata.json, weights.bin and the optional model.onnx read once each');
  assert.equal(await cache.get('a'), m1);
  assert.equal(store.reads(), readsAfterLoad);
  assert.equal(cache.loadCount('a'), 1);
  assert.deepEqual(m1.checkpoint.metadata.labels, ['red_square', 'green_circle', 'blue_stripes']);
});

test('least recently used models leave first when the count or the byte budget is exceeded', async () => {
  const store = await storeWith(['a', 'b', 'c']);
  const evicted: string[] = [];
  const load = (id: string) => readCheckpoint(store.read, checkpointPrefix(id));
  const cache = new ModelCache({ load, maxModels: 2, maxBytes: 1e9, onEvict: (m) => evicted.push(m.jobId) });
  await cache.get('a');
  await cache.get('b');
  await cache.get('a'); // a is now more recent than b
  await cache.get('c');
  assert.deepEqual(evicted, ['b']);
  assert.equal(cache.size, 2);
  await cache.get('b');
  assert.equal(cache.loadCount('b'), 2, 'an evicted model is loaded again');

  const one = (await cache.get('a')).checkpoint.byteLength;
  const byBytes = new ModelCache({ load, maxModels: 10, maxBytes: one * 1.5, onEvict: (m) => evicted.push(`bytes:${m.jobId}`) });
  await byBytes.get('a');
  await byBytes.get('b');
  assert.deepEqual(evicted.slice(-1), ['bytes:a']);
  assert.equal(byBytes.size, 1);
  assert.ok(byBytes.bytes <= one * 1.5);
});

test('a failed load is not cached: the next request tries storage again', async () => {
  const store = await storeWith(['a']);
  const cache = new ModelCache({ load: (id) => readCheckpoint(store.read, checkpointPrefix(id)), maxModels: 2, maxBytes: 1e9 });
  await assert.rejects(cache.get('missing'), (err: Error & { code?: string }) => err.code === 'not_found' && /model\.json/.test(err.message));
  await assert.rejects(cache.get('missing'));
  assert.equal(cache.loadCount('missing'), 2);
  assert.equal(cache.size, 0);
});

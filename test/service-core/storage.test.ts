import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, mkdir, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, describe, test } from 'node:test';
import { createS3Client, downloadFolder, openS3Object, openStorage, StorageNotFoundError, uploadFolder, type Storage } from '@graft/storage';
import { loadConfig } from '@graft/config';
import { startS3 } from '../support/s3.ts';

const work = await mkdtemp(path.join(tmpdir(), 'graft-storage-test-'));
const s3server = await startS3();
after(async () => {
  await s3server.close();
  await rm(work, { recursive: true, force: true });
});

const backends: [string, () => Storage][] = [
  ['local folder', () => openStorage({ storageUrl: `file://${work}/store`, s3: loadConfig({}).s3 })],
  ['S3 (s3rver)', () => openStorage({ storageUrl: `s3://${s3server.bucket}/graft`, s3: s3server.s3 })],
];

for (const [name, open] of backends) {
  describe(`storage: ${name}`, () => {
    const storage = open();

    test('put, get, exists and list objects from buffers and streams', async () => {
      assert.equal(await storage.put('datasets/a/archive', Buffer.from('hello')), 5);
      const big = Buffer.alloc(3 * 1024 * 1024, 7);
      assert.equal(await storage.put('datasets/b/archive', Readable.from([big.subarray(0, 1000), big.subarray(1000)])), big.length);
      assert.equal((await buffer(await storage.get('datasets/a/archive'))).toString(), 'hello');
      assert.ok((await buffer(await storage.get('datasets/b/archive'))).equals(big));
      assert.equal(await storage.exists('datasets/a/archive'), true);
      assert.equal(await storage.exists('datasets/c/archive'), false);
      assert.deepEqual(await storage.list('datasets/'), ['datasets/a/archive', 'datasets/b/archive']);
    });

    test('a missing object is StorageNotFoundError', async () => {
      await assert.rejects(storage.get('datasets/missing/archive'), StorageNotFoundError);
    });

    test('keys that could escape the store are refused', async () => {
      for (const key of ['../x', 'a/../../x', '/etc/passwd', 'a//b', 'a\\b', '']) {
        await assert.rejects(storage.put(key, Buffer.from('x')), /invalid storage key/, key);
      }
    });

    test('a checkpoint folder round-trips and deletes by prefix', async () => {
      const src = path.join(work, `${name.split(' ')[0]}-ckpt`);
      await mkdir(path.join(src, 'sub'), { recursive: true });
      await writeFile(path.join(src, 'model.json'), '{"format":"layers-model"}');
      await writeFile(path.join(src, 'weights.bin'), Buffer.alloc(1000, 1));
      await writeFile(path.join(src, 'sub', 'metadata.json'), '{}');
      const keys = await uploadFolder(storage, src, 'jobs/j1/model');
      assert.deepEqual(keys, ['jobs/j1/model/model.json', 'jobs/j1/model/sub/metadata.json', 'jobs/j1/model/weights.bin']);
      const dest = path.join(work, `${name.split(' ')[0]}-ckpt-copy`);
      await downloadFolder(storage, 'jobs/j1/model', dest);
      assert.deepEqual((await readdir(dest, { recursive: true })).sort(), ['model.json', 'sub', 'sub/metadata.json', 'weights.bin']);
      assert.equal(await readFile(path.join(dest, 'model.json'), 'utf8'), '{"format":"layers-model"}');
      await storage.deletePrefix('jobs/j1/');
      assert.deepEqual(await storage.list('jobs/'), []);
      assert.equal(await storage.exists('datasets/a/archive'), true, 'other prefixes stay');
    });
  });
}

test('s3:// dataset URLs are opened on the configured endpoint', async () => {
  const storage = openStorage({ storageUrl: `s3://${s3server.bucket}`, s3: s3server.s3 });
  await storage.put('uploads/data.zip', Buffer.from('zipbytes'));
  const client = createS3Client(s3server.s3);
  assert.equal((await buffer(await openS3Object(client, s3server.bucket, 'uploads/data.zip'))).toString(), 'zipbytes');
  await assert.rejects(openS3Object(client, s3server.bucket, 'uploads/none.zip'), StorageNotFoundError);
});

test('file:// STORAGE_URL accepts relative folders', () => {
  const storage = openStorage({ storageUrl: 'file://./var/storage', s3: loadConfig({}).s3 });
  assert.equal(storage.description, `file://${path.resolve('var/storage')}`);
});

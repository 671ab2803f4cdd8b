// Dataset uploads over real HTTP: streamed into storage, size-limited, and usable as dataset: { id }.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { encodeImage, makeImageFolderZip } from '../support/images.ts';
import { makeImageFolderTar } from '../support/archives.ts';
import { startTestApi } from '../support/api.ts';

const maxUploadBytes = 64 * 1024;
const api = await startTestApi({ MAX_UPLOAD_BYTES: String(maxUploadBytes) });

/** Bytes that start like a zip, so only their size can refuse them. */
const zipLike = (size: number) => Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), randomBytes(size - 4)]);

test('POST /datasets stores the archive and returns an id that a job can use', async () => {
  const zip = await makeImageFolderZip({ perClass: 4, size: 32 });
  assert.ok(zip.length < maxUploadBytes);
  const res = await api.http.post('/datasets').attach('file', zip, 'shapes.zip');
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.equal(res.body.filename, 'shapes.zip');
  assert.equal(res.body.sizeBytes, zip.length);
  assert.equal(res.headers.location, `/datasets/${res.body.id}`);

  // The bytes in storage are the bytes sent, under the key the worker opens.
  const stored = await readFile(path.join(api.storageDir, 'datasets', res.body.id, 'archive'));
  assert.ok(stored.equals(zip));
  assert.deepEqual((await api.http.get(`/datasets/${res.body.id}`)).body, res.body);

  const job = await api.http.post('/jobs').send({ method: 'fine_tune', dataset: { id: res.body.id } });
  assert.equal(job.status, 202, JSON.stringify(job.body));
  assert.deepEqual(job.body.spec.dataset, { id: res.body.id });
  const da = await api.http.post('/jobs').send({ method: 'domain_adaptation', dataset: { url: 'https://x/t.zip' }, source: { id: res.body.id } });
  assert.equal(da.status, 202, JSON.stringify(da.body));
});

test('an archive over MAX_UPLOAD_BYTES is 413 and leaves nothing behind', async () => {
  const datasetsBefore = await api.db.prisma.dataset.count();
  const big = zipLike(maxUploadBytes * 3);
  const res = await api.http.post('/datasets').attach('file', big, 'big.zip');
  assert.equal(res.status, 413);
  assert.equal(res.body.error.code, 'payload_too_large');
  assert.match(res.body.error.message, /MAX_UPLOAD_BYTES/);
  assert.equal(await api.db.prisma.dataset.count(), datasetsBefore);

  // Just over the limit (the announced length passes the early check, the stream does not).
  const slightly = await api.http.post('/datasets').attach('file', zipLike(maxUploadBytes + 100), 'slightly.zip');
  assert.equal(slightly.status, 413);
  assert.equal(await api.db.prisma.dataset.count(), datasetsBefore);
  // No partial object stays in storage: every stored file belongs to a recorded dataset.
  const known = new Set((await api.db.prisma.dataset.findMany()).map((d) => d.id));
  const stored = await readdir(path.join(api.storageDir, 'datasets'), { recursive: true }).catch(() => []);
  assert.deepEqual(stored.filter((f) => !known.has(f.split(path.sep)[0])), []);
});

test('a tar.gz is accepted; a file that is not an archive is refused at upload with not_an_archive saying what it is', async () => {
  const tgz = await makeImageFolderTar({ perClass: 3, size: 32, gzip: true });
  const ok = await api.http.post('/datasets').attach('file', tgz, 'shapes.tar.gz');
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
  assert.equal(ok.body.sizeBytes, tgz.length);

  const datasetsBefore = await api.db.prisma.dataset.count();
  const png = await encodeImage(Buffer.alloc(32 * 32 * 3, 128), 32);
  const image = await api.http.post('/datasets').attach('file', png, 'cat.png');
  assert.equal(image.status, 415);
  assert.equal(image.body.error.code, 'not_an_archive');
  assert.match(image.body.error.message, /PNG image, not an archive.*zip, tar or tar\.gz/);
  const empty = await api.http.post('/datasets').attach('file', Buffer.alloc(0), 'empty.zip');
  assert.equal(empty.status, 415);
  assert.match(empty.body.error.message, /empty/);
  assert.equal(await api.db.prisma.dataset.count(), datasetsBefore);
});

test('a non-multipart upload is 415; a form without a file is 400; an unknown dataset is 404', async () => {
  const json = await api.http.post('/datasets').send({ url: 'https://x/d.zip' });
  assert.equal(json.status, 415);
  assert.equal(json.body.error.code, 'unsupported_media_type');

  const noFile = await api.http.post('/datasets').field('name', 'x');
  assert.equal(noFile.status, 400);
  assert.equal(noFile.body.error.code, 'validation_error');
  assert.equal(noFile.body.error.details.field, 'file');

  const missing = await api.http.get('/datasets/00000000-0000-4000-8000-000000000000');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, 'not_found');
});

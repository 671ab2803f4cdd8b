// Per-tenant quotas over real HTTP, Postgres and Redis: concurrent jobs (admitted in one transaction),
// predictions per minute (a Redis window shared by API processes) and stored bytes: 429 with
// Retry-After, and the tenant recovers once it is under its quota again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startTestApi } from '../support/api.ts';
import { seedServedJob } from '../support/served-job.ts';
import { defaultPatterns, encodeImage, makeImageFolderZip, mulberry32, renderPattern } from '../support/images.ts';
import { predictRate } from '../../apps/api/src/quotas/predict-rate.ts';
import { admitCheckpoint } from '../../apps/worker/src/checkpoint-quota.ts';
import { GraftError } from '@graft/spec';

const api = await startTestApi();
const spec = { method: 'fine_tune', dataset: { url: 'https://example.com/d.zip' } };

test('maxConcurrentJobs: concurrent submissions admit exactly the limit, then 429 quota_exceeded with Retry-After; a cancel frees a slot', async () => {
  const t = await api.createTenant(['train'], { maxConcurrentJobs: 2 });
  const http = api.as(t.key);
  const results = await Promise.all(Array.from({ length: 6 }, () => http.post('/jobs').send(spec)));
  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [202, 202, 429, 429, 429, 429]);
  const refused = results.find((r) => r.status === 429)!;
  assert.equal(refused.body.error.code, 'quota_exceeded');
  assert.match(refused.body.error.message, /maxConcurrentJobs 2/);
  assert.ok(Number(refused.headers['retry-after']) > 0);
  assert.equal(await api.db.prisma.job.count({ where: { tenantId: t.tenantId } }), 2, 'nothing was stored for the refused ones');
  assert.equal((await http.get('/me').expect(200)).body.usage.concurrentJobs, 2);
  // other tenants are not affected
  await api.http.post('/jobs').send(spec).expect(202);

  const first = results.find((r) => r.status === 202)!.body.id;
  await http.delete(`/jobs/${first}`).expect(200);
  await http.post('/jobs').send(spec).expect(202);
  assert.equal((await http.post('/jobs').send(spec)).status, 429);
});

test('predictPerMinute: images past the limit are 429 rate_limited with Retry-After, counted per tenant', async () => {
  const t = await api.createTenant(['predict'], { predictPerMinute: 3 });
  const job = await seedServedJob(api, { tenantId: t.tenantId });
  const http = api.as(t.key);
  const b64 = (await encodeImage(renderPattern(defaultPatterns[0]!, mulberry32(1), { size: 32 }), 32)).toString('base64');
  await http.post('/predict').send({ jobId: job.id, images: [b64, b64] }).expect(200);
  const limited = await http.post('/predict').send({ jobId: job.id, images: [b64, b64] });
  assert.equal(limited.status, 429);
  assert.equal(limited.body.error.code, 'rate_limited');
  assert.match(limited.body.error.message, /3 predictions a minute/);
  const retryAfter = Number(limited.headers['retry-after']);
  assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
  // the refused request took nothing: one more image still fits
  await http.post('/predict').send({ jobId: job.id, images: [b64] }).expect(200);
  assert.equal((await http.post('/predict').send({ jobId: job.id, images: [b64] })).status, 429);
  const me = (await http.get('/me').expect(200)).body;
  assert.equal(me.usage.predictionsThisMinute, 3);
});

test('the predict window lives in Redis: two API processes share it, and it recovers when the window rolls over', async () => {
  const prefix = `graft-test-rate-${randomBytes(4).toString('hex')}`;
  const a = new Redis(api.config.redisUrl);
  const b = new Redis(api.config.redisUrl);
  try {
    const windowMs = 1500;
    const one = predictRate(a, prefix, windowMs);
    const two = predictRate(b, prefix, windowMs);
    // start at the beginning of a window so the two takes below fall in the same one
    await new Promise((r) => setTimeout(r, windowMs - (Date.now() % windowMs) + 10));
    await one.take('t1', 2, 3);
    await assert.rejects(two.take('t1', 2, 3), (e: unknown) => e instanceof GraftError && e.code === 'rate_limited');
    await two.take('t2', 3, 3); // another tenant has its own count
    await new Promise((r) => setTimeout(r, windowMs - (Date.now() % windowMs) + 10));
    await two.take('t1', 3, 3);
  } finally {
    a.disconnect();
    b.disconnect();
  }
});

test('maxStorageBytes: an upload past the quota is 429 quota_exceeded and leaves nothing stored; deleting a dataset frees room', async () => {
  const zip = await makeImageFolderZip({ perClass: 2, size: 16 });
  const t = await api.createTenant(['train'], { maxStorageBytes: Math.floor(zip.length * 1.5) });
  const http = api.as(t.key);
  const first = (await http.post('/datasets').attach('file', zip, 'a.zip').expect(201)).body.id;
  const refused = await http.post('/datasets').attach('file', zip, 'b.zip');
  assert.equal(refused.status, 429);
  assert.equal(refused.body.error.code, 'quota_exceeded');
  assert.match(refused.body.error.message, /maxStorageBytes/);
  assert.ok(refused.headers['retry-after']);
  assert.equal(await api.db.prisma.dataset.count({ where: { tenantId: t.tenantId } }), 1);
  assert.equal((await http.get('/me').expect(200)).body.usage.storageBytes, zip.length);

  // a dataset an active job uses stays; once the job ended it can go, and the room is back
  const job = (await http.post('/jobs').send({ method: 'fine_tune', dataset: { id: first } }).expect(202)).body.id;
  assert.equal((await http.delete(`/datasets/${first}`)).status, 409);
  await http.delete(`/jobs/${job}`).expect(200);
  await http.delete(`/datasets/${first}`).expect(204);
  await http.get(`/datasets/${first}`).expect(404);
  await http.post('/datasets').attach('file', zip, 'b.zip').expect(201);
});

test('maxStorageBytes: a checkpoint that would pass the quota fails its job with quota_exceeded before it is stored', async () => {
  const t = await api.createTenant(['train'], { maxStorageBytes: 1000 });
  const job = await api.db.prisma.job.create({ data: { tenantId: t.tenantId, method: 'fine_tune', spec } });
  const dir = await mkdtemp(path.join(tmpdir(), 'graft-ckpt-'));
  try {
    await writeFile(path.join(dir, 'weights.bin'), Buffer.alloc(600));
    assert.equal(await admitCheckpoint(api.db.prisma, job.id, dir), 600);
    await api.db.prisma.job.update({ where: { id: job.id }, data: { checkpointBytes: 600n } });
    const second = await api.db.prisma.job.create({ data: { tenantId: t.tenantId, method: 'fine_tune', spec } });
    await assert.rejects(admitCheckpoint(api.db.prisma, second.id, dir), (e: unknown) => e instanceof GraftError && e.code === 'quota_exceeded' && /maxStorageBytes 1000, 600 bytes used/.test(e.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// The service around the resources over real HTTP: health, readiness, backbones, the OpenAPI document
// and the error shape when a dependency fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import supertest from 'supertest';
import openapiTS from 'openapi-typescript';
import { loadConfig } from '@graft/config';
import { createPrisma } from '@graft/db';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { queueName, type JobData } from '@graft/queue';
import { openStorage } from '@graft/storage';
import { buildApp } from '../../apps/api/src/app.ts';
import { startTestApi } from '../support/api.ts';

const api = await startTestApi();

test('GET /healthz and GET /readyz answer when Postgres and Redis are up', async () => {
  assert.deepEqual((await api.http.get('/healthz').expect(200)).body, { status: 'ok' });
  assert.deepEqual((await api.http.get('/readyz').expect(200)).body, { status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
});

test('with Postgres and Redis down: /healthz 200, /readyz and POST /jobs 503 not_ready, other routes 500 internal_error without internals', async () => {
  // Nothing listens on port 1.
  // The operator's key from the environment is checked without Postgres.
  const adminKey = 'graft_operator_key_for_this_test';
  const config = loadConfig({ ...process.env, DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/graft', REDIS_URL: 'redis://127.0.0.1:1', GRAFT_ADMIN_KEY: adminKey });
  const prisma = createPrisma(config.databaseUrl);
  // Our own connection, to drop it at the end: Queue.close() never settles while Redis is unreachable.
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', () => undefined); // reconnect attempts are expected here
  const queue = new Queue<JobData>(queueName, { connection: redis, prefix: config.queuePrefix });
  queue.on('error', () => undefined);
  const app = await buildApp({ config, prisma, queue, storage: openStorage({ ...config, storageUrl: `file://${api.storageDir}` }), logger: pino({ level: 'silent' }) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const http = supertest.agent(app.server).set('authorization', `Bearer ${adminKey}`);
    await http.get('/healthz').expect(200);
    const ready = await http.get('/readyz');
    assert.equal(ready.status, 503);
    assert.equal(ready.body.error.code, 'not_ready');
    assert.match(ready.body.error.message, /postgres/);
    assert.match(ready.body.error.message, /redis/);
    assert.notEqual(ready.body.error.details.postgres, 'ok');
    assert.notEqual(ready.body.error.details.redis, 'ok');

    // A submission is refused at once (not left hanging on the queue) and says why.
    const submit = await http.post('/jobs').send({ method: 'fine_tune', dataset: { url: 'https://x/d.zip' } });
    assert.equal(submit.status, 503);
    assert.equal(submit.body.error.code, 'not_ready');
    assert.match(submit.body.error.message, /Redis/);

    const list = await http.get('/jobs');
    assert.equal(list.status, 500);
    assert.equal(list.body.error.code, 'internal_error');
    assert.match(list.body.error.message, /request id/);
    assert.equal(list.headers['x-request-id'], list.body.error.details.requestId, 'the id to quote is in a header too');
    const text = JSON.stringify(list.body);
    assert.doesNotMatch(text, /ECONNREFUSED|stack|\bat \S+ \(|127\.0\.0\.1/);
    assert.deepEqual(Object.keys(list.body), ['error']);
    // A client's own request id is used and echoed.
    const mine = await http.get('/jobs').set('x-request-id', 'client-42');
    assert.equal(mine.headers['x-request-id'], 'client-42');
    assert.equal(mine.body.error.details.requestId, 'client-42');
  } finally {
    await app.close();
    redis.disconnect();
    await prisma.$disconnect();
  }
});

test('GET /backbones lists the registered backbones, the default first', async () => {
  const res = await api.http.get('/backbones').expect(200);
  const ids = res.body.items.map((b: { id: string }) => b.id);
  assert.equal(ids[0], 'mobilenet_v2');
  assert.ok(ids.includes('inception_v3'));
  const mobilenet = res.body.items[0];
  assert.equal(mobilenet.nativeImageSize, 224);
  assert.equal(mobilenet.featureDim, 1280);
  assert.deepEqual(mobilenet.pixelRange, [0, 1]);
});

test('GET /openapi.json documents every route with the spec schemas as named components; /docs serves Swagger UI', async () => {
  const doc = (await api.http.get('/openapi.json').expect(200)).body;
  assert.match(doc.openapi, /^3\./);
  const expected: Record<string, string[]> = {
    '/jobs': ['get', 'post'],
    '/jobs/{id}': ['delete', 'get'],
    '/jobs/{id}/metrics': ['get'],
    '/jobs/{id}/events': ['get'],
    '/datasets': ['post'],
    '/datasets/{id}': ['get'],
    '/backbones': ['get'],
    '/healthz': ['get'],
    '/readyz': ['get'],
  };
  for (const [path, methods] of Object.entries(expected)) {
    assert.ok(doc.paths[path], `${path} is documented`);
    for (const m of methods) assert.ok(doc.paths[path][m], `${m.toUpperCase()} ${path} is documented`);
  }
  for (const name of ['JobSpec', 'JobView', 'JobList', 'MetricsView', 'ErrorBody', 'DatasetRef', 'BackboneRef', 'Hyperparameters', 'Method', 'JobStatus', 'EpochMetrics', 'Evaluation', 'DatasetView', 'BackboneView']) {
    assert.ok(doc.components.schemas[name], `component ${name}`);
  }
  assert.deepEqual(doc.paths['/jobs'].post.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/JobSpec' });
  assert.ok(doc.paths['/datasets'].post.requestBody.content['multipart/form-data']);

  // Every $ref points at a component that exists.
  const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
  for (const r of new Set(refs)) {
    const name = r.slice('"$ref":"#/components/schemas/'.length, -1);
    assert.ok(r.includes('#/components/schemas/') && doc.components.schemas[name], `${r} resolves`);
  }
  // A client generator accepts the document (it validates it on the way).
  const types = await openapiTS(doc);
  assert.ok(types.length > 0);

  const ui = await api.http.get('/docs/').redirects(2);
  assert.equal(ui.status, 200);
  assert.match(ui.text, /swagger/i);
});

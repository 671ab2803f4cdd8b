// Jobs over real HTTP: submission and its validation, reading, listing, metrics and cancelling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { jobLifecycle } from '@graft/db';
import { startTestApi } from '../support/api.ts';

const api = await startTestApi();
const minimal = { method: 'fine_tune', dataset: { url: 'https://example.com/data.zip' } };

async function submit(body: unknown) {
  return api.http.post('/jobs').send(body as object);
}

function assertRefused(res: { status: number; body: { error?: { code: string; message: string; details?: { field?: string } } } }, status: number, code: string, field?: string) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error?.code, code);
  assert.ok(res.body.error?.message, 'a human message');
  if (field !== undefined) {
    assert.equal(res.body.error?.details?.field, field);
    assert.match(res.body.error!.message, new RegExp(field.replace('.', '\\.')));
  }
}

test('POST /jobs queues the job: 202, Location, the JobView, and one BullMQ entry carrying only its id', async () => {
  const res = await submit({ ...minimal, hyperparameters: { epochs: 3, trainableBlocks: 'all' } });
  assert.equal(res.status, 202);
  assert.equal(res.headers.location, `/jobs/${res.body.id}`);
  assert.equal(res.body.status, 'queued');
  assert.equal(res.body.method, 'fine_tune');
  assert.equal(res.body.progress, 0);
  assert.deepEqual(res.body.spec, { ...minimal, hyperparameters: { epochs: 3, trainableBlocks: 'all' } });
  assert.equal(res.body.error, null);
  assert.ok(!Number.isNaN(Date.parse(res.body.createdAt)));
  assert.equal(res.body.sweepId, null, 'a job submitted on its own is in no sweep');
  assert.equal(res.body.trialIndex, null);

  const read = await api.http.get(res.headers.location);
  assert.equal(read.status, 200);
  assert.deepEqual(read.body, res.body);

  const queued = await api.queue.getJob(res.body.id);
  assert.deepEqual(queued?.data, { jobId: res.body.id });
});

test('every method with what it needs is accepted, including a registered backbone or a model URL', async () => {
  for (const body of [
    { method: 'feature_extraction', dataset: { url: 'https://x/d.zip' }, backbone: 'mobilenet_v2', hyperparameters: { classifier: 'svm', imageSize: 96 } },
    { method: 'multi_task', dataset: { url: 'https://x/t.zip' }, source: { url: 'https://x/s.zip' }, hyperparameters: { lambda: 0.5 } },
    { method: 'domain_adaptation', dataset: { url: 'https://x/t.zip' }, source: { url: 'https://x/s.zip' }, validation: { url: 'https://x/v.zip' } },
    { method: 'fine_tune', dataset: { url: 'https://x/d.zip' }, backbone: { url: 'https://x/model.json', imageSize: 64, pixelRange: '-1,1' } },
    { method: 'fine_tune', dataset: { url: 'https://x/d.zip' }, backbone: { url: 'https://x/resnet18.onnx', format: 'onnx', preprocessing: 'torch' } },
    { method: 'fine_tune', dataset: { url: 'https://x/d.zip' }, backbone: { url: 'https://x/m.json', preprocessing: { scale: 1, mean: [103.9, 116.8, 123.7], std: [1, 1, 1], channelOrder: 'bgr' } } },
  ]) {
    const res = await submit(body);
    assert.equal(res.status, 202, `${JSON.stringify(body)} -> ${JSON.stringify(res.body)}`);
  }
});

test('schema violations are 400 validation_error naming the field', async () => {
  assertRefused(await submit({ ...minimal, colour: 'red' }), 400, 'validation_error', 'colour');
  assertRefused(await submit({ ...minimal, hyperparameters: { epochs: 0 } }), 400, 'validation_error', 'hyperparameters.epochs');
  assertRefused(await submit({ ...minimal, hyperparameters: { learningRate: 2 } }), 400, 'validation_error', 'hyperparameters.learningRate');
  assertRefused(await submit({ ...minimal, hyperparameters: { epochs: 5, momentum: 0.9 } }), 400, 'validation_error', 'hyperparameters.momentum');
  assertRefused(await submit({ ...minimal, backbone: { url: 'https://x/m.json', preprocessing: 'keras' } }), 400, 'validation_error', 'backbone.preprocessing');
  assertRefused(await submit({ ...minimal, backbone: { url: 'https://x/m.json', preprocessing: { scale: 1, mean: [0, 0], std: [1, 1, 1], channelOrder: 'rgb' } } }), 400, 'validation_error', 'backbone.preprocessing.mean');
  assertRefused(await submit({ ...minimal, backbone: { url: 'https://x/m.json', pixelRange: '0,1', preprocessing: 'torch' } }), 400, 'validation_error', 'backbone.preprocessing');
  assertRefused(await submit({ ...minimal, dataset: { url: 'https://x/d.zip', format: 'zip' } }), 400, 'validation_error', 'dataset.format');
  assertRefused(await submit({ method: 'fine_tune' }), 400, 'validation_error', 'dataset');
  // No type coercion of bodies: a string is not a number.
  assertRefused(await submit({ ...minimal, hyperparameters: { epochs: '5' } }), 400, 'validation_error', 'hyperparameters.epochs');

  const method = await submit({ ...minimal, method: 'transfer' });
  assertRefused(method, 400, 'validation_error', 'method');
  assert.match(method.body.error.message, /one of: "fine_tune", "feature_extraction", "multi_task", "domain_adaptation"/);
  // Unions say what each alternative is.
  const empty = await submit({ method: 'fine_tune', dataset: {} });
  assertRefused(empty, 400, 'validation_error', 'dataset');
  assert.match(empty.body.error.message, /dataset must have one of: url, id/);
  const blocks = await submit({ ...minimal, hyperparameters: { trainableBlocks: 'some' } });
  assertRefused(blocks, 400, 'validation_error', 'hyperparameters.trainableBlocks');
  assert.match(blocks.body.error.message, /must be an integer or "all"/);
});

test('bad JSON is 400 invalid_json; a non-JSON body is 415; an oversized body is 413', async () => {
  const bad = await api.http.post('/jobs').set('content-type', 'application/json').send('{"method": "fine_tune",');
  assertRefused(bad, 400, 'invalid_json');
  const text = await api.http.post('/jobs').set('content-type', 'text/plain').send('method=fine_tune');
  assertRefused(text, 415, 'unsupported_media_type');
  const huge = await submit({ ...minimal, padding: 'x'.repeat(2 * 1024 * 1024) });
  assertRefused(huge, 413, 'payload_too_large');
});

test('semantic checks: unknown backbone, image size, source per method, unknown dataset id', async () => {
  const backbone = await submit({ ...minimal, backbone: 'resnet50' });
  assertRefused(backbone, 400, 'unknown_backbone', 'backbone');
  assert.match(backbone.body.error.message, /mobilenet_v2/);
  // registered but its weights are the operator's to configure: the refusal says what to set
  if (!process.env.GRAFT_RESNET50_URL) assert.match(backbone.body.error.message, /weights not configured: set GRAFT_RESNET50_URL/);
  const unknown = await submit({ ...minimal, backbone: 'resnet152' });
  assertRefused(unknown, 400, 'unknown_backbone', 'backbone');
  assert.match(unknown.body.error.message, /mobilenet_v2/);

  assertRefused(await submit({ ...minimal, hyperparameters: { imageSize: 100 } }), 400, 'validation_error', 'hyperparameters.imageSize');
  assertRefused(await submit({ method: 'multi_task', dataset: { url: 'https://x/t.zip' } }), 400, 'validation_error', 'source');
  assertRefused(await submit({ method: 'domain_adaptation', dataset: { url: 'https://x/t.zip' } }), 400, 'validation_error', 'source');
  assertRefused(await submit({ ...minimal, source: { url: 'https://x/s.zip' } }), 400, 'validation_error', 'source');
  assertRefused(await submit({ method: 'fine_tune', dataset: { id: randomUUID() } }), 400, 'validation_error', 'dataset.id');
  assertRefused(await submit({ method: 'fine_tune', dataset: { id: 'my-data' } }), 400, 'validation_error', 'dataset.id');
  assertRefused(await submit({ ...minimal, validation: { id: randomUUID() } }), 400, 'validation_error', 'validation.id');
});

test('unknown jobs and routes are 404 not_found', async () => {
  for (const path of [`/jobs/${randomUUID()}`, '/jobs/not-a-uuid', `/jobs/${randomUUID()}/metrics`, `/jobs/${randomUUID()}/events`, '/nowhere']) {
    assertRefused(await api.http.get(path), 404, 'not_found');
  }
  assertRefused(await api.http.delete(`/jobs/${randomUUID()}`), 404, 'not_found');
});

test('GET /jobs pages newest first and filters by status', async () => {
  await api.db.prisma.job.deleteMany();
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await submit(minimal)).body.id);
  const newestFirst = [...ids].reverse();

  const page1 = await api.http.get('/jobs?limit=2');
  assert.equal(page1.status, 200);
  assert.equal(page1.body.total, 5);
  assert.equal(page1.body.limit, 2);
  assert.equal(page1.body.offset, 0);
  assert.deepEqual(page1.body.items.map((j: { id: string }) => j.id), newestFirst.slice(0, 2));
  const page3 = await api.http.get('/jobs?limit=2&offset=4');
  assert.deepEqual(page3.body.items.map((j: { id: string }) => j.id), newestFirst.slice(4));
  assert.equal((await api.http.get('/jobs')).body.items.length, 5);

  await api.http.delete(`/jobs/${ids[1]}`).expect(200);
  const cancelled = await api.http.get('/jobs?status=cancelled');
  assert.equal(cancelled.body.total, 1);
  assert.equal(cancelled.body.items[0].id, ids[1]);
  assert.equal((await api.http.get('/jobs?status=queued')).body.total, 4);

  assertRefused(await api.http.get('/jobs?limit=0'), 400, 'validation_error', 'limit');
  assertRefused(await api.http.get('/jobs?limit=1000'), 400, 'validation_error', 'limit');
  assertRefused(await api.http.get('/jobs?status=done'), 400, 'validation_error', 'status');
  assertRefused(await api.http.get('/jobs?sort=asc'), 400, 'validation_error', 'sort');
});

test('DELETE cancels a queued job at once and removes it from the queue; a second DELETE is 409', async () => {
  const { body: job } = await submit(minimal);
  const res = await api.http.delete(`/jobs/${job.id}`);
  assert.equal(res.status, 200);
  assert.equal(res.body.status, 'cancelled');
  assert.ok(res.body.finishedAt);
  assert.equal(await api.queue.getJob(job.id), undefined);
  assert.equal((await api.http.get(`/jobs/${job.id}`)).body.status, 'cancelled');
  assertRefused(await api.http.delete(`/jobs/${job.id}`), 409, 'conflict');
});

test('DELETE of a running job asks its worker to stop: 202, still running, cancel requested', async () => {
  const { body: job } = await submit(minimal);
  await api.queue.remove(job.id); // no worker in this file: play the worker's part through the lifecycle
  assert.equal(await jobLifecycle.markRunning(api.db.prisma, job.id), 'started');
  const res = await api.http.delete(`/jobs/${job.id}`);
  assert.equal(res.status, 202);
  assert.equal(res.body.status, 'running');
  assert.equal(await jobLifecycle.isCancelRequested(api.db.prisma, job.id), true);
});

test('GET /jobs/:id/metrics shows epochs while the job runs and the evaluation once it ends', async () => {
  const { body: job } = await submit(minimal);
  const empty = await api.http.get(`/jobs/${job.id}/metrics`);
  assert.deepEqual(empty.body, { jobId: job.id, status: 'queued', epochs: [], evaluation: null, stages: [] });

  await api.queue.remove(job.id);
  await jobLifecycle.markRunning(api.db.prisma, job.id);
  await jobLifecycle.recordEpoch(api.db.prisma, job.id, { epoch: 1, loss: 0.9, accuracy: 0.6, valLoss: 1.0, valAccuracy: 0.5 });
  await jobLifecycle.recordEpoch(api.db.prisma, job.id, { epoch: 2, loss: 0.5, accuracy: 0.8, valLoss: null, valAccuracy: null, extra: { domainLoss: 0.7 } });
  const running = await api.http.get(`/jobs/${job.id}/metrics`);
  assert.equal(running.body.status, 'running');
  // the time it waited in the queue is the first stage of the attempt
  assert.deepEqual(running.body.stages.map((st: { stage: string }) => st.stage), ['queued']);
  assert.deepEqual(running.body.epochs, [
    { epoch: 1, loss: 0.9, accuracy: 0.6, valLoss: 1.0, valAccuracy: 0.5 },
    { epoch: 2, loss: 0.5, accuracy: 0.8, valLoss: null, valAccuracy: null, extra: { domainLoss: 0.7 } },
  ]);
  assert.equal(running.body.evaluation, null);

  const evaluation = {
    split: 'validation',
    accuracy: 0.75,
    macroF1: 0.74,
    perClass: [{ label: 'a', precision: 0.8, recall: 0.7, f1: 0.75, support: 10 }],
    confusionMatrix: { labels: ['a', 'b'], matrix: [[7, 3], [2, 8]] },
    topK: { '1': 0.75 },
  };
  await jobLifecycle.recordEvaluation(api.db.prisma, job.id, evaluation);
  await jobLifecycle.markSucceeded(api.db.prisma, job.id, { checkpointKey: `jobs/${job.id}/model`, classes: ['a', 'b'] });
  const done = await api.http.get(`/jobs/${job.id}/metrics`);
  assert.equal(done.body.status, 'succeeded');
  assert.deepEqual(done.body.evaluation, evaluation);
  const view = await api.http.get(`/jobs/${job.id}`);
  assert.deepEqual(view.body.classes, ['a', 'b']);
  assert.equal(view.body.progress, 1);
});

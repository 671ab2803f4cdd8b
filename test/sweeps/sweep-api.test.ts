// POST /sweeps refusals and tenancy, without workers: an invalid space is a 400 naming the field (as
// job specs are), another tenant's sweep is 404, trials obey the tenant's maxConcurrentJobs and DELETE
// cancels the queued ones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestApi } from '../support/api.ts';

const api = await startTestApi();
const dataset = { url: 'https://example.com/shapes.zip' };
const search = { algorithm: 'grid', maxTrials: 4, parallelTrials: 2, objective: 'valAccuracy', space: { learningRate: [0.01, 0.001] } };
const sweep = (over: Record<string, unknown> = {}, searchOver: Record<string, unknown> = {}) => ({ method: 'fine_tune', dataset, ...over, search: { ...search, ...searchOver } });

async function refused(body: unknown, field: string, message: RegExp): Promise<void> {
  const res = await api.http.post('/sweeps').send(body as object);
  assert.equal(res.status, 400, JSON.stringify(res.body));
  assert.equal(res.body.error.details?.field, field, JSON.stringify(res.body));
  assert.match(res.body.error.message, message);
}

test('an invalid space is refused with 400 naming the field', async () => {
  await refused(sweep({}, { space: { learningRate: [0.01, 0] } }), 'search.space.learningRate.1', /must be > 0/);
  await refused(sweep({}, { space: { learningRat: [0.01] } }), 'search.space.learningRat', /is not a known field/);
  await refused(sweep({}, { space: {} }), 'search.space', /must NOT have fewer than 1 properties/);
  await refused(sweep({}, { space: { epochs: { min: 1, max: 5 } } }), 'search.space.epochs', /grid search takes lists/);
  await refused(sweep({}, { algorithm: 'random', space: { learningRate: { min: 0.01, max: 0.001 } } }), 'search.space.learningRate.min', /is above/);
  await refused(sweep({}, { algorithm: 'random', space: { validationSplit: { min: 0, max: 0.3, scale: 'log' } } }), 'search.space.validationSplit.min', /> 0 on a log scale/);
  await refused(sweep({ hyperparameters: { learningRate: 0.01 } }), 'search.space.learningRate', /also fixed as hyperparameters.learningRate/);
  await refused(sweep({}, { earlyStopping: { type: 'asha', gracePeriod: 1, reductionFactor: 2 }, objective: 'macroF1' }), 'search.earlyStopping', /per-epoch objective|after each epoch/);
  // a trial the job checks refuse: the space value named, not the job field
  await refused(sweep({ backbone: 'mobilenet_v2' }, { space: { imageSize: [96, 100] } }), 'search.space.imageSize', /imageSize 100 does not fit.*trial 1 draws imageSize 100/);
  await refused(sweep({}, { space: { backbone: ['mobilenet_v2', 'no_such_backbone'] } }), 'search.space.backbone', /'no_such_backbone' is not registered/);
  assert.equal(await api.db.prisma.sweep.count(), 0, 'nothing stored');
});

test("another tenant's sweep is 404, in GET, report, DELETE and the list", async () => {
  const res = await api.http.post('/sweeps').send(sweep());
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.equal(res.headers.location, `/sweeps/${res.body.id}`);
  const other = await api.createTenant();
  for (const path of [`/sweeps/${res.body.id}`, `/sweeps/${res.body.id}/report`]) await api.as(other.key).get(path).expect(404);
  await api.as(other.key).delete(`/sweeps/${res.body.id}`).expect(404);
  assert.equal((await api.as(other.key).get('/sweeps').expect(200)).body.total, 0);
  const mine = (await api.http.get('/sweeps').expect(200)).body;
  assert.deepEqual(mine.items.map((s: { id: string }) => s.id), [res.body.id]);
  await api.http.delete(`/sweeps/${res.body.id}`).expect(200);
});

test("trials count against the tenant's maxConcurrentJobs; DELETE cancels every unfinished trial", async () => {
  const tenant = await api.createTenant(['train'], { maxConcurrentJobs: 1 });
  const res = await api.as(tenant.key).post('/sweeps').send(sweep({}, { parallelTrials: 2 }));
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.equal(res.body.status, 'queued');
  assert.deepEqual(res.body.trials.map((t: { status: string }) => t.status), ['queued'], 'one trial: the quota admits one job');
  assert.deepEqual(res.body.trials[0].hyperparameters, { learningRate: 0.01 });
  const job = (await api.as(tenant.key).get(`/jobs/${res.body.trials[0].jobId}`).expect(200)).body;
  assert.deepEqual(job.spec.hyperparameters, { seed: job.spec.hyperparameters.seed, learningRate: 0.01 }, 'an ordinary job with a fixed seed');
  assert.ok(Number.isInteger(job.spec.hyperparameters.seed));
  assert.equal(job.sweepId, res.body.id, 'a trial names its sweep');
  assert.equal(job.trialIndex, 0);

  const cancelled = (await api.as(tenant.key).delete(`/sweeps/${res.body.id}`).expect(200)).body;
  assert.equal(cancelled.status, 'cancelled');
  assert.deepEqual(cancelled.trials.map((t: { status: string }) => t.status), ['cancelled']);
  await api.as(tenant.key).delete(`/sweeps/${res.body.id}`).expect(409);
  const report = await api.as(tenant.key).get(`/sweeps/${res.body.id}/report`).expect(200);
  assert.match(report.headers['content-type'], /text\/html/);
  assert.match(report.text, /id="leaderboard"/);
});

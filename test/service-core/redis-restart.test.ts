// Postgres is the truth: a Redis that restarts empty under a running and a queued job loses neither.
// The running job's worker finishes it; the reconciler puts the queued one back, once. Both succeed,
// with each epoch recorded once. Runs on a Redis of its own (test/support/redis-server.ts).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeImageFolderZip } from '../support/images.ts';
import { startTestApi } from '../support/api.ts';
import { startWorkerForApi } from '../support/api-worker.ts';
import { killWorker, waitForJob } from '../support/service.ts';
import { startTestRedis } from '../support/redis-server.ts';

const redis = await startTestRedis();
const api = await startTestApi({ REDIS_URL: redis.url });
const worker = startWorkerForApi(api, { RECONCILE_INTERVAL_MS: '1000', WORKER_CONCURRENCY: '1' });
// after the API's own teardown (registered by startTestApi), which needs this Redis up
after(async () => {
  await killWorker(worker);
  await redis.stop();
});

test('Redis restarting empty under a running and a queued job: both succeed, each epoch once', async () => {
  const zip = await makeImageFolderZip({ perClass: 10, size: 32 });
  const dataset = (await api.http.post('/datasets').attach('file', zip, 'shapes.zip').expect(201)).body.id;
  const hyperparameters = { imageSize: 32, epochs: 6, batchSize: 8, seed: 1, trainableBlocks: 1, augment: false, earlyStoppingPatience: 0 };
  const submit = async () => (await api.http.post('/jobs').send({ method: 'fine_tune', dataset: { id: dataset }, hyperparameters }).expect(202)).body.id as string;
  const running = await submit();
  const queued = await submit();
  await worker.waitForLog(/worker ready/, 120_000);
  await waitForJob(api.db.prisma, running, (j) => j.status === 'running', 120_000, [worker]);
  await waitForJob(api.db.prisma, queued, (j) => j.status === 'queued', 1_000, [worker]);

  await redis.restartEmpty();

  for (const id of [running, queued]) {
    const job = await waitForJob(api.db.prisma, id, (j) => ['succeeded', 'failed', 'cancelled'].includes(j.status), 240_000, [worker]);
    assert.equal(job.status, 'succeeded', `${id}: ${job.errorCode} ${job.errorMessage}\n${worker.output().slice(-3000)}`);
    const epochs = (await api.db.prisma.epochMetric.findMany({ where: { jobId: id }, orderBy: { epoch: 'asc' } })).map((e) => e.epoch);
    assert.deepEqual(epochs, Array.from({ length: epochs.length }, (_, i) => i + 1), `${id}: epochs ${epochs}`);
    assert.ok(epochs.length >= 1);
  }
  const reconciled = worker.output().split('\n').filter((l) => l.includes('reconciled the queue with Postgres'));
  assert.ok(reconciled.some((l) => l.includes(queued)), `the reconciler put the queued job back:\n${reconciled.join('\n')}`);
  assert.ok(!reconciled.some((l) => l.includes(running)), 'the running job, alive, was left to its worker');
  // put back once: the queued job ran one attempt
  assert.equal((await api.db.prisma.job.findUniqueOrThrow({ where: { id: queued } })).attempts, 1);
});

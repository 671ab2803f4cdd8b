// The sweep scheduler against real Postgres and Redis, its trials moved by hand through the job
// lifecycle the worker uses (no training): a tick alone tops the sweep up and ends it, as it must when no
// worker reported a trial's end (a killed worker, a restarted API); maxFailedTrials fails the sweep and
// cancels what still runs; the best trial is the objective's best.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { jobLifecycle, LEGACY_TENANT_ID, sweeps } from '@graft/db';
import { advanceActiveSweeps, advanceSweep, createJobQueue } from '@graft/queue';
import type { Evaluation, SweepSpec } from '@graft/spec';
import { createTestDatabase } from '../support/db.ts';

const { prisma } = await createTestDatabase('sweep_scheduler');
const queue = createJobQueue({ redisUrl: 'redis://127.0.0.1:6379', queuePrefix: `graft-test-${randomBytes(4).toString('hex')}` });
after(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
});
const deps = { prisma, queue };

const spec = (over: Partial<SweepSpec['search']> = {}): SweepSpec => ({
  method: 'fine_tune',
  dataset: { url: 'https://example.com/data.zip' },
  search: { algorithm: 'grid', maxTrials: 3, parallelTrials: 2, objective: 'valAccuracy', space: { learningRate: [0.01, 0.003, 0.001] }, ...over },
});
const trials = (sweepId: string) => prisma.job.findMany({ where: { sweepId }, orderBy: { trialIndex: 'asc' } });
const sweepRow = (id: string) => prisma.sweep.findUniqueOrThrow({ where: { id } });

async function succeed(jobId: string, accuracy: number): Promise<void> {
  await jobLifecycle.markRunning(prisma, jobId);
  await jobLifecycle.recordEpoch(prisma, jobId, { epoch: 1, loss: 1, accuracy, valLoss: 1 - accuracy, valAccuracy: accuracy });
  const evaluation: Evaluation = { split: 'validation', accuracy, macroF1: accuracy, perClass: [], confusionMatrix: { labels: [], matrix: [] }, topK: {} };
  await jobLifecycle.recordEvaluation(prisma, jobId, evaluation);
  await jobLifecycle.markSucceeded(prisma, jobId, { checkpointKey: `jobs/${jobId}/model/`, classes: ['a', 'b'] });
}

test('ticks top the sweep up to parallelTrials, in sampling order, and end it with the best trial', async () => {
  const sweep = await sweeps.createSweepRow(prisma, LEGACY_TENANT_ID, spec());
  await advanceSweep(deps, sweep.id);
  await advanceSweep(deps, sweep.id); // a second call (another process) adds nothing
  let rows = await trials(sweep.id);
  assert.deepEqual(rows.map((t) => [t.trialIndex, t.status]), [[0, 'queued'], [1, 'queued']]);
  for (const t of rows) assert.equal(await queue.getJobState(t.id), 'waiting', 'handed to the workers');
  assert.deepEqual(rows.map((t) => (t.spec as { hyperparameters: { learningRate: number } }).hyperparameters.learningRate), [0.01, 0.003]);

  await succeed(rows[0]!.id, 0.7);
  await jobLifecycle.markFailed(prisma, rows[1]!.id, { code: 'no_images', message: 'x' });
  await advanceActiveSweeps(deps);
  rows = await trials(sweep.id);
  assert.deepEqual(rows.map((t) => t.status), ['succeeded', 'failed', 'queued']);
  assert.equal((await sweepRow(sweep.id)).status, 'running');
  assert.equal((await sweepRow(sweep.id)).bestJobId, rows[0]!.id, 'the best so far');

  await succeed(rows[2]!.id, 0.9);
  await advanceActiveSweeps(deps);
  const ended = await sweepRow(sweep.id);
  assert.equal(ended.status, 'succeeded');
  assert.equal(ended.bestJobId, rows[2]!.id);
  assert.equal(ended.bestObjective, 0.9);
  assert.ok(ended.finishedAt);
  assert.equal((await trials(sweep.id)).length, 3, 'maxTrials');
});

test('maxFailedTrials failed trials fail the sweep and cancel the trials still queued', async () => {
  const sweep = await sweeps.createSweepRow(prisma, LEGACY_TENANT_ID, spec({ maxTrials: 3, parallelTrials: 2, maxFailedTrials: 1 }));
  await advanceSweep(deps, sweep.id);
  const [first, second] = await trials(sweep.id);
  await jobLifecycle.markFailed(prisma, first!.id, { code: 'no_images', message: 'x' });
  await advanceActiveSweeps(deps);
  const ended = await sweepRow(sweep.id);
  assert.equal(ended.status, 'failed');
  assert.equal(ended.errorCode, 'trials_failed');
  assert.match(ended.errorMessage ?? '', /maxFailedTrials/);
  assert.equal((await prisma.job.findUniqueOrThrow({ where: { id: second!.id } })).status, 'cancelled');
  assert.equal((await trials(sweep.id)).length, 2, 'no trial started after the end');
});

test('a sweep none of whose trials succeeded fails, saying so', async () => {
  const sweep = await sweeps.createSweepRow(prisma, LEGACY_TENANT_ID, spec({ maxTrials: 1, parallelTrials: 1, space: { learningRate: [0.01] } }));
  await advanceSweep(deps, sweep.id);
  const [only] = await trials(sweep.id);
  await jobLifecycle.markFailed(prisma, only!.id, { code: 'no_images', message: 'x' });
  await advanceSweep(deps, sweep.id);
  const ended = await sweepRow(sweep.id);
  assert.equal(ended.status, 'failed');
  assert.match(ended.errorMessage ?? '', /no trial succeeded/);
});

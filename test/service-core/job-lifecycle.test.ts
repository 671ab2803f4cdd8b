import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jobLifecycle } from '@graft/db';
import type { JobSpec } from '@graft/spec';
import { createTestDatabase } from '../support/db.ts';

const { prisma } = await createTestDatabase('lifecycle');
const spec: JobSpec = { method: 'fine_tune', dataset: { url: 'https://example.com/data.zip' }, hyperparameters: { epochs: 2 } };
const epoch = (n: number, loss: number) => ({ epoch: n, loss, accuracy: 0.5, valLoss: null, valAccuracy: null });

test('queued -> running -> succeeded, written once, never changed after', async () => {
  const job = await jobLifecycle.createJobRow(prisma, spec);
  assert.equal(job.status, 'queued');
  assert.equal(await jobLifecycle.markRunning(prisma, job.id), 'started');
  await jobLifecycle.recordProgress(prisma, job.id, 0.4, 'training');
  await jobLifecycle.recordEpoch(prisma, job.id, epoch(1, 0.9));
  assert.equal(await jobLifecycle.markSucceeded(prisma, job.id, { checkpointKey: `jobs/${job.id}/model/`, classes: ['a', 'b'] }), true);
  const done = await prisma.job.findUniqueOrThrow({ where: { id: job.id } });
  assert.equal(done.status, 'succeeded');
  assert.equal(done.progress, 1);
  assert.deepEqual(done.classes, ['a', 'b']);
  assert.ok(done.startedAt && done.finishedAt);

  assert.equal(await jobLifecycle.markSucceeded(prisma, job.id, { checkpointKey: 'x', classes: [] }), false);
  assert.equal(await jobLifecycle.markFailed(prisma, job.id, { code: 'internal_error', message: 'late' }), false);
  assert.equal(await jobLifecycle.markCancelled(prisma, job.id), false);
  assert.equal(await jobLifecycle.markRunning(prisma, job.id), 'terminal');
  const after = await prisma.job.findUniqueOrThrow({ where: { id: job.id } });
  assert.deepEqual(after, done);
});

test('a re-run after a crash starts clean: epochs rewritten, never duplicated, first start time kept', async () => {
  const job = await jobLifecycle.createJobRow(prisma, spec);
  await jobLifecycle.markRunning(prisma, job.id);
  const firstStart = (await prisma.job.findUniqueOrThrow({ where: { id: job.id } })).startedAt;
  await jobLifecycle.recordEpoch(prisma, job.id, epoch(1, 0.9));
  await jobLifecycle.recordEpoch(prisma, job.id, epoch(2, 0.7));
  await jobLifecycle.recordEpoch(prisma, job.id, epoch(2, 0.6)); // same epoch reported twice: one row
  assert.equal(await prisma.epochMetric.count({ where: { jobId: job.id } }), 2);
  // the worker died; another worker starts the job again while it is still `running`
  assert.equal(await jobLifecycle.markRunning(prisma, job.id), 'started');
  assert.equal(await prisma.epochMetric.count({ where: { jobId: job.id } }), 0);
  await jobLifecycle.recordEpoch(prisma, job.id, epoch(1, 0.8));
  const row = await prisma.job.findUniqueOrThrow({ where: { id: job.id }, include: { epochs: true } });
  assert.equal(row.attempts, 2);
  assert.deepEqual(row.startedAt, firstStart);
  assert.deepEqual(row.epochs.map((e) => [e.epoch, e.loss]), [[1, 0.8]]);
});

test('cancel: a flagged job does not start; failed jobs keep their reason', async () => {
  const job = await jobLifecycle.createJobRow(prisma, spec);
  assert.deepEqual(await jobLifecycle.requestCancel(prisma, job.id), { found: true, status: 'queued', accepted: true });
  assert.equal(await jobLifecycle.isCancelRequested(prisma, job.id), true);
  assert.equal(await jobLifecycle.markRunning(prisma, job.id), 'cancel_requested');
  assert.equal(await jobLifecycle.markCancelled(prisma, job.id), true);
  assert.deepEqual(await jobLifecycle.requestCancel(prisma, job.id), { found: true, status: 'cancelled', accepted: false });
  assert.deepEqual(await jobLifecycle.requestCancel(prisma, '00000000-0000-4000-8000-000000000000'), { found: false });

  const bad = await jobLifecycle.createJobRow(prisma, spec);
  await jobLifecycle.markRunning(prisma, bad.id);
  assert.equal(await jobLifecycle.markFailed(prisma, bad.id, { code: 'no_images', message: 'the archive holds no images' }), true);
  const row = await prisma.job.findUniqueOrThrow({ where: { id: bad.id } });
  assert.equal(row.status, 'failed');
  assert.equal(row.errorCode, 'no_images');
  assert.equal(row.errorMessage, 'the archive holds no images');
});

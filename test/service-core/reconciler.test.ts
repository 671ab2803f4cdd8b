// The reconciler against real Postgres and Redis: what Postgres calls active and the queue lacks goes
// back once; a running job with no progress for JOB_STALL_TIMEOUT_MS is failed with a reason.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { jobLifecycle } from '@graft/db';
import { createJobQueue, reconcileOnce, submitJob } from '@graft/queue';
import type { JobSpec } from '@graft/spec';
import { createTestDatabase } from '../support/db.ts';

const { prisma } = await createTestDatabase('reconciler');
const queue = createJobQueue({ redisUrl: 'redis://127.0.0.1:6379', queuePrefix: `graft-test-${randomBytes(4).toString('hex')}` });
after(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
});
const spec: JobSpec = { method: 'feature_extraction', dataset: { url: 'https://example.com/data.zip' } };
const settings = { runningGraceMs: 60_000, stallTimeoutMs: 600_000, queuedGraceMs: 0 };
const age = (id: string, ms: number) => prisma.$executeRaw`UPDATE "Job" SET "updatedAt" = now() - make_interval(secs => ${ms / 1000}), "createdAt" = now() - make_interval(secs => ${ms / 1000}) WHERE id = ${id}::uuid`;

test('jobs the queue lost go back once; jobs it holds, live running ones and ended ones are left alone', async () => {
  const held = await submitJob({ prisma, queue }, spec);
  const lostQueued = await submitJob({ prisma, queue }, spec);
  const lostRunning = await submitJob({ prisma, queue }, spec);
  const liveRunning = await submitJob({ prisma, queue }, spec);
  const ended = await submitJob({ prisma, queue }, spec);
  for (const j of [lostRunning, liveRunning]) await jobLifecycle.markRunning(prisma, j.id);
  await jobLifecycle.markFailed(prisma, ended.id, { code: 'no_images', message: 'x' });
  for (const j of [lostQueued, lostRunning, liveRunning, ended]) await queue.remove(j.id);
  await age(lostRunning.id, 120_000);

  const first = await reconcileOnce({ prisma, queue }, settings);
  assert.deepEqual(first.requeued.sort(), [lostQueued.id, lostRunning.id].sort());
  assert.deepEqual(first.stalled, []);
  for (const id of first.requeued) assert.equal(await queue.getJobState(id), 'waiting');
  assert.equal((await prisma.job.findUniqueOrThrow({ where: { id: lostRunning.id } })).status, 'queued', 'no worker has it any more');
  assert.ok(await queue.getJob(held.id));
  assert.equal(await queue.getJob(liveRunning.id), undefined, 'a running job with recent progress is its worker’s');
  assert.deepEqual(await reconcileOnce({ prisma, queue }, settings), { requeued: [], stalled: [] }, 'once');
});

test('the watchdog fails a running job with no progress for the stall timeout, saying why', async () => {
  const hung = await submitJob({ prisma, queue }, spec);
  await jobLifecycle.markRunning(prisma, hung.id);
  await age(hung.id, 700_000);
  const result = await reconcileOnce({ prisma, queue }, settings);
  assert.deepEqual(result.stalled, [hung.id]);
  const row = await prisma.job.findUniqueOrThrow({ where: { id: hung.id } });
  assert.equal(row.status, 'failed');
  assert.equal(row.errorCode, 'worker_lost');
  assert.match(row.errorMessage ?? '', /no progress for 10 min \(JOB_STALL_TIMEOUT_MS\)/);
  assert.equal(await queue.getJob(hung.id), undefined);
});

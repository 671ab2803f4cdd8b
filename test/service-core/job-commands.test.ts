import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { cancelJob, createJobQueue, submitJob } from '@graft/queue';
import type { JobSpec } from '@graft/spec';
import { createTestDatabase } from '../support/db.ts';

const { prisma } = await createTestDatabase('commands');
const queue = createJobQueue({ redisUrl: 'redis://127.0.0.1:6379', queuePrefix: `graft-test-${randomBytes(4).toString('hex')}` });
after(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
});
const spec: JobSpec = { method: 'feature_extraction', dataset: { url: 'https://example.com/data.zip' } };

test('submitJob stores the job queued and adds a BullMQ job with the same id', async () => {
  const job = await submitJob({ prisma, queue }, spec);
  assert.equal(job.status, 'queued');
  assert.deepEqual(job.spec, spec);
  const queued = await queue.getJob(job.id);
  assert.ok(queued, 'BullMQ job exists');
  assert.deepEqual(queued.data, { jobId: job.id });
  assert.equal(await queued.getState(), 'waiting');
});

test('cancelJob on a queued job cancels it at once and removes it from the queue', async () => {
  const job = await submitJob({ prisma, queue }, spec);
  const result = await cancelJob({ prisma, queue }, job.id);
  assert.equal(result.outcome, 'cancelled');
  assert.equal(await queue.getJob(job.id), undefined);
  const row = await prisma.job.findUniqueOrThrow({ where: { id: job.id } });
  assert.equal(row.status, 'cancelled');
  assert.ok(row.finishedAt);
  const again = await cancelJob({ prisma, queue }, job.id);
  assert.equal(again.outcome, 'terminal');
});

test('cancelJob on an unknown id is not_found', async () => {
  assert.deepEqual(await cancelJob({ prisma, queue }, '00000000-0000-4000-8000-000000000000'), { outcome: 'not_found' });
});

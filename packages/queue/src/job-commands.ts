// What the API does to jobs: submit and cancel, keeping Postgres (the truth) and BullMQ in step.
import type { Queue } from 'bullmq';
import { jobLifecycle, type Job, type PrismaClient } from '@graft/db';
import { ErrorCode, type JobSpec } from '@graft/spec';
import { enqueueJob, type JobData } from './job-queue.ts';

export interface JobDeps {
  prisma: PrismaClient;
  queue: Queue<JobData>;
}

/** Stores the job (status queued) and hands it to the workers. Returns the stored row. */
export async function submitJob(deps: JobDeps, spec: JobSpec): Promise<Job> {
  const job = await jobLifecycle.createJobRow(deps.prisma, spec);
  try {
    await enqueueJob(deps.queue, job.id);
  } catch (err) {
    // Without a queue entry no worker would ever pick the row up: do not leave it queued forever.
    await jobLifecycle.markFailed(deps.prisma, job.id, { code: ErrorCode.internal, message: 'the job could not be queued; try again' });
    throw err;
  }
  return job;
}

export type CancelOutcome =
  /** not found */
  | { outcome: 'not_found' }
  /** already succeeded/failed/cancelled: nothing to cancel (HTTP 409) */
  | { outcome: 'terminal'; job: Job }
  /** was queued: cancelled now */
  | { outcome: 'cancelled'; job: Job }
  /** is running: the worker stops it at its next batch and marks it cancelled */
  | { outcome: 'cancelling'; job: Job };

export async function cancelJob(deps: JobDeps, jobId: string): Promise<CancelOutcome> {
  const request = await jobLifecycle.requestCancel(deps.prisma, jobId);
  if (!request.found) return { outcome: 'not_found' };
  const read = () => deps.prisma.job.findUniqueOrThrow({ where: { id: jobId } });
  if (!request.accepted) return { outcome: 'terminal', job: await read() };
  if (request.status === 'queued') {
    // remove() refuses (0) when a worker holds the job's lock; that worker then sees cancelRequested
    // when it starts the attempt and ends the job cancelled itself.
    const removed = (await deps.queue.remove(jobId)) === 1 || !(await deps.queue.getJob(jobId));
    if (removed) await jobLifecycle.markCancelled(deps.prisma, jobId);
  }
  const job = await read();
  return { outcome: job.status === 'cancelled' ? 'cancelled' : 'cancelling', job };
}

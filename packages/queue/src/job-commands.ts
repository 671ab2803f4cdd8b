// What the API does to jobs: submit and cancel, keeping Postgres (the truth) and BullMQ in step.
import type { Queue } from 'bullmq';
import { jobLifecycle, tenants, LEGACY_TENANT_ID, type Job, type PrismaClient } from '@graft/db';
import { ErrorCode, GraftError, type JobSpec } from '@graft/spec';
import { enqueueJob, type JobData } from './job-queue.ts';

export interface JobDeps {
  prisma: PrismaClient;
  queue: Queue<JobData>;
}

/** How long a client refused for its concurrent-job quota is told to wait before trying again. */
export const quotaRetryAfterSeconds = 30;

/**
 * Stores the job (status queued) for the tenant, if its maxConcurrentJobs quota admits it (429
 * quota_exceeded otherwise), and hands it to the workers. Returns the stored row.
 */
export async function submitJob(deps: JobDeps, spec: JobSpec, tenantId = LEGACY_TENANT_ID): Promise<Job> {
  const admission = await tenants.admitJob(deps.prisma, tenantId, spec);
  if (!admission.admitted) {
    throw new GraftError(
      ErrorCode.quotaExceeded,
      `This tenant already has ${admission.active} queued or running jobs, its limit (maxConcurrentJobs ${admission.limit}); wait for one to finish or cancel one`,
      { quota: 'maxConcurrentJobs', limit: admission.limit, retryAfterSeconds: quotaRetryAfterSeconds },
    );
  }
  const { job } = admission;
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

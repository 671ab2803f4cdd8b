// The BullMQ queue that carries work to the workers. It carries only { jobId }: the spec, state and
// metrics live in Postgres, and the BullMQ job id is our job id so both sides name the same job.
import { Queue, type RedisOptions } from 'bullmq';

export const queueName = 'graft-jobs';

export interface JobData {
  jobId: string;
}

/**
 * Connection options (not a client) for BullMQ: it then owns its connections and closes them on close().
 * No per-command retry limit, so blocking calls survive reconnects, as BullMQ requires.
 */
export function redisConnection(redisUrl: string): RedisOptions {
  return { url: redisUrl, maxRetriesPerRequest: null };
}

export interface QueueSettings {
  redisUrl: string;
  /** Redis key prefix; tests use a unique one so they never see each other's jobs. */
  queuePrefix: string;
}

export function createJobQueue(settings: QueueSettings): Queue<JobData> {
  return new Queue<JobData>(queueName, { connection: redisConnection(settings.redisUrl), prefix: settings.queuePrefix });
}

// User errors fail at once (UnrecoverableError); internal errors get one more attempt. Finished BullMQ
// entries are trimmed: Postgres keeps the history.
export const jobOptions = {
  attempts: 2,
  backoff: { type: 'exponential', delay: 5_000 },
  removeOnComplete: { age: 24 * 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
} as const;

export async function enqueueJob(queue: Queue<JobData>, jobId: string): Promise<void> {
  await queue.add('train', { jobId }, { ...jobOptions, jobId });
}

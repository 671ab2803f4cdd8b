export { queueName, redisConnection, createJobQueue, enqueueJob, jobOptions, type JobData, type QueueSettings } from './job-queue.ts';
export { submitJob, cancelJob, quotaRetryAfterSeconds, type JobDeps, type CancelOutcome } from './job-commands.ts';

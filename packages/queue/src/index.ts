export { queueName, redisConnection, createJobQueue, enqueueJob, jobOptions, type JobData, type QueueSettings } from './job-queue.ts';
export { submitJob, cancelJob, type JobDeps, type CancelOutcome } from './job-commands.ts';

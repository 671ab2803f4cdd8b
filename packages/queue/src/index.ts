export { queueName, redisConnection, createJobQueue, enqueueJob, jobOptions, type JobData, type QueueSettings } from './job-queue.ts';
export { submitJob, cancelJob, quotaRetryAfterSeconds, type JobDeps, type CancelOutcome } from './job-commands.ts';
export { reconcileOnce, reconcileSettings, startReconciler, type Reconciler, type ReconcileResult, type ReconcileSettings } from './reconciler.ts';
export { advanceSweep, advanceSweepOfJob, advanceActiveSweeps, cancelSweep, type SweepDeps, type CancelSweepOutcome } from './sweep-scheduler.ts';

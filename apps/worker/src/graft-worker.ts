// The BullMQ worker of the main thread: takes jobs from `graft-jobs`, runs each in a worker thread,
// and makes sure Postgres never keeps a job `running` that BullMQ has given up on.
import { QueueEvents, Worker, type Job as QueueJob } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '@graft/config';
import { jobLifecycle, type PrismaClient } from '@graft/db';
import { advanceSweepOfJob, createJobQueue, reconcileSettings, redisConnection, queueName, startReconciler, type JobData } from '@graft/queue';
import { ErrorCode } from '@graft/spec';
import { announceShutdown } from './shutdown-broadcast.ts';

export interface GraftWorker {
  /** Stops taking jobs; waits up to graceMs for the current one, then hands it back to the queue. The process must exit after. */
  close(graceMs?: number): Promise<void>;
}

const processorFile = new URL('./job-thread.mjs', import.meta.url);

/** The part of BullMQ's (private) pool of sandboxed job threads used to start them before the first job. */
interface JobThreadPool {
  retain(processFile: string): Promise<object>;
  release(child: object): void;
}

/**
 * Starts the job threads now rather than when the first job arrives: BullMQ forks a sandboxed thread on demand
 * and keeps it for later jobs, and a thread's boot (tsx, the engine, TF.js, ONNX Runtime, Prisma) took 1.5–9 s of
 * the first job's queued time. The threads go back to BullMQ's free list (keyed by the processor's URL, as BullMQ
 * keys it), where its first jobs find them. A BullMQ without that pool just forks on demand, as before.
 */
async function prestartJobThreads(worker: Worker<JobData>, count: number, logger: Logger): Promise<void> {
  const pool = (worker as unknown as { childPool?: JobThreadPool }).childPool;
  if (typeof pool?.retain !== 'function' || typeof pool.release !== 'function') return;
  try {
    const threads = await Promise.all(Array.from({ length: count }, () => pool.retain(processorFile.href)));
    for (const thread of threads) pool.release(thread);
  } catch (err) {
    // each job will try again (and fail with the reason), as without the head start
    logger.error({ err }, 'job thread did not start');
  }
}
/** How long handed-back jobs get to reach their next batch and stop before the process exits anyway. */
const STOP_AT_BATCH_MS = 5000;

export async function startWorker(config: Config, prisma: PrismaClient, logger: Logger): Promise<GraftWorker> {
  const worker = new Worker<JobData>(queueName, processorFile, {
    connection: redisConnection(config.redisUrl),
    prefix: config.queuePrefix,
    concurrency: config.workerConcurrency,
    useWorkerThreads: true,
    lockDuration: config.workerLockDurationMs,
    stalledInterval: config.workerStalledIntervalMs,
    // a job whose worker died is re-run twice before it is failed as worker_lost
    maxStalledCount: 2,
    // jobs are taken once the job threads have started (below), so none forks a thread of its own meanwhile
    autorun: false,
  });
  // BullMQ can fail a job without our processor running (stalled too often, thread crash): reflect it.
  const queue = createJobQueue(config);
  const events = new QueueEvents(queueName, { connection: redisConnection(config.redisUrl), prefix: config.queuePrefix });
  // a trial that ended frees a place in its sweep (or ends the sweep); the reconciler's tick is the fallback
  const advanceSweep = (jobId: string | undefined) => {
    if (jobId) advanceSweepOfJob({ prisma, queue }, jobId).catch((err) => logger.warn({ err, jobId }, 'could not advance the sweep; the next reconciler tick will'));
  };
  const reflectFailure = async (jobId: string, reason: string) => {
    if ((await queue.getJobState(jobId)) !== 'failed') return; // it will be retried
    const lost = /stalled|started more than/i.test(reason);
    const marked = await jobLifecycle.markFailed(prisma, jobId, {
      code: lost ? ErrorCode.workerLost : ErrorCode.internal,
      message: lost ? 'the worker running this job stopped repeatedly; submit it again' : `internal error: ${reason}`,
    });
    if (marked) logger.warn({ jobId, reason }, 'job failed outside the processor');
  };
  const onFailed = (jobId: string | undefined, reason: string) => {
    if (jobId) {
      reflectFailure(jobId, reason)
        .then(() => advanceSweep(jobId))
        .catch((err) => logger.error({ err, jobId }, 'could not record failure'));
    }
  };
  worker.on('failed', (job: QueueJob<JobData> | undefined, err: Error) => onFailed(job?.id, err.message));
  events.on('failed', ({ jobId, failedReason }) => onFailed(jobId, failedReason));
  // Jobs this process holds, with their lock tokens, so a shutdown can hand them back.
  const held = new Map<string, QueueJob<JobData>>();
  worker.on('active', (job) => {
    held.set(job.id!, job);
    logger.info({ jobId: job.id, attempt: job.attemptsStarted }, 'job taken');
  });
  worker.on('completed', (job) => held.delete(job.id!));
  worker.on('failed', (job) => job && held.delete(job.id!));
  worker.on('completed', (job) => advanceSweep(job.id));
  worker.on('stalled', (jobId) => logger.warn({ jobId }, 'job stalled (its worker died); re-queued'));
  worker.on('error', (err) => logger.error({ err }, 'worker error'));
  await Promise.all([worker.waitUntilReady(), events.waitUntilReady(), prestartJobThreads(worker, config.workerConcurrency, logger)]);
  worker.run().catch((err) => logger.error({ err }, 'worker error'));
  logger.info({ queue: queueName, prefix: config.queuePrefix, concurrency: config.workerConcurrency }, 'worker ready');
  // puts back jobs a restarted Redis lost, and fails hung ones (Postgres is the truth)
  const reconciler = startReconciler({ prisma, queue }, reconcileSettings(config), logger);

  return {
    async close(graceMs = config.shutdownGraceMs) {
      reconciler.stop();
      let timer: NodeJS.Timeout | undefined;
      const graceful = worker.close().then(() => 'finished' as const);
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
      const how = await Promise.race([graceful, timeout]);
      clearTimeout(timer);
      if (how === 'timeout') {
        // Put each unfinished job back in the queue now (not after its lock expires); another worker
        // re-runs it from the start.
        for (const job of held.values()) {
          logger.warn({ jobId: job.id, graceMs }, 'job did not finish in time; handing it back to the queue');
          await jobLifecycle.markRequeued(prisma, job.id!, 'handed back by a worker that shut down');
          await job.moveToWait(job.token);
        }
        // then stop their threads at a batch boundary, so the exit does not land inside a native call
        announceShutdown();
        await Promise.race([graceful, new Promise((resolve) => (timer = setTimeout(resolve, STOP_AT_BATCH_MS)))]);
        clearTimeout(timer);
      }
      await events.close();
      await queue.close();
    },
  };
}

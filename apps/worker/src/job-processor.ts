// The BullMQ processor, run in a worker thread (see job-thread.mjs) so the engine's long synchronous
// compute never blocks the main thread that renews the job's lock. Dependencies are built once per thread.
import os from 'node:os';
import pino from 'pino';
import type { SandboxedJob } from 'bullmq';
import type { S3Client } from '@aws-sdk/client-s3';
import { loadConfig } from '@graft/config';
import { createPrisma } from '@graft/db';
import { heavyPasses, idlePrefixPools, initBackend, keepPrefixPoolsWarm, reservePrefixThreads } from '@graft/engine';
import type { JobData } from '@graft/queue';
import { createS3Client, openStorage } from '@graft/storage';
import { runJob, type RunDeps, type RunOutcome } from './run-job.ts';

let deps: Promise<RunDeps> | undefined;

/**
 * Booted prefix-pool threads for the next job's cold pool, one per core (see the engine's thread-reserve.ts), unless
 * warm pools are off (WARM_PREFIX_POOLS=0: nothing kept between jobs). Topped up as each job starts, while its
 * datasets are extracted, unless as many pools are idle as are kept: a cold pool then closes the oldest and starts
 * on its threads (a boot beside the job's features would take a core for ~1.5 s).
 */
function reserveThreads(warmPools: number): void {
  if (warmPools > 0 && idlePrefixPools() < warmPools) reservePrefixThreads(os.availableParallelism());
}

function threadDeps(): Promise<RunDeps> {
  deps ??= (async () => {
    const config = loadConfig();
    const logger = pino({ level: config.logLevel, base: { pid: process.pid, role: 'job-thread' } });
    const backend = await initBackend(config.tfjsBackend);
    const heavy = await heavyPasses();
    logger.info({ backend, heavyPasses: heavy.runner, gpu: heavy.gpu }, `TF.js backend ready; training's heavy passes: ${heavy.reason}`);
    // the next job on the same backbone, size and blocks skips the prefix pool's start (threads, sessions, export)
    await keepPrefixPoolsWarm(config.warmPrefixPools);
    reserveThreads(config.warmPrefixPools.maxPools);
    let s3Client: S3Client | undefined; // only jobs with s3:// dataset URLs need one
    const prisma = createPrisma(config.databaseUrl);
    // connected now rather than by the first job's first query (~0.5 s); a database still away just connects later
    prisma.$connect().catch(() => {});
    return {
      config,
      logger,
      prisma,
      storage: openStorage(config),
      s3Client: () => (s3Client ??= createS3Client(config.s3)),
    };
  })();
  return deps;
}

// Built as the thread starts, before BullMQ counts it as started (the worker starts its job threads before it takes
// jobs), so the first job does not wait for the backend and the database client; a failure here fails each job
// that awaits it, as before.
await threadDeps().catch(() => {});

export default async function processJob(job: SandboxedJob<JobData>): Promise<RunOutcome> {
  const d = await threadDeps();
  reserveThreads(d.config.warmPrefixPools.maxPools);
  return runJob(d, job.data.jobId, {
    failedBefore: job.attemptsMade,
    maxAttempts: job.opts.attempts ?? 1,
    // a mirror for BullMQ dashboards: Postgres has the truth, and a Redis that restarted empty no longer
    // has the job, which must not fail the training
    reportProgress: (p) => job.updateProgress(p).catch(() => undefined),
  });
}

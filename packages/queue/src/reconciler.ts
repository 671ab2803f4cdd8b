// Postgres is the truth, Redis only carries work: a Redis that restarted empty (or lost a key) must not
// leave a job queued or running forever. The reconciler compares the two and puts back, once, every
// job Postgres calls active that the queue no longer holds (BullMQ jobId = our id, so a second add of
// the same job is a no-op). A running job is put back only when its progress has stopped for longer
// than `runningGraceMs` (a live worker writes progress every second or so, and finishes its job itself
// even without its queue entry). The watchdog fails a running job with no progress for `stallTimeoutMs`.
import type { Queue } from 'bullmq';
import { jobLifecycle, type PrismaClient } from '@graft/db';
import { ErrorCode } from '@graft/spec';
import { enqueueJob, type JobData } from './job-queue.ts';
import { advanceActiveSweeps } from './sweep-scheduler.ts';

export interface ReconcileDeps {
  prisma: PrismaClient;
  queue: Queue<JobData>;
}

export interface ReconcileSettings {
  /** a running job without progress for this long, and missing from the queue, is put back */
  runningGraceMs: number;
  /** a running job without progress for this long is failed (the watchdog) */
  stallTimeoutMs: number;
  /** a queued job younger than this is left alone: its submission may still be adding it */
  queuedGraceMs?: number;
}

export interface ReconcileResult {
  requeued: string[];
  stalled: string[];
}

export async function reconcileOnce(deps: ReconcileDeps, settings: ReconcileSettings): Promise<ReconcileResult> {
  const now = Date.now();
  const result: ReconcileResult = { requeued: [], stalled: [] };
  const stalled = await deps.prisma.job.findMany({
    where: { status: 'running', updatedAt: { lt: new Date(now - settings.stallTimeoutMs) } },
    select: { id: true },
  });
  for (const { id } of stalled) {
    const minutes = Math.round(settings.stallTimeoutMs / 60_000);
    const marked = await jobLifecycle.markFailed(deps.prisma, id, {
      code: ErrorCode.workerLost,
      message: `the job reported no progress for ${minutes >= 1 ? `${minutes} min` : `${settings.stallTimeoutMs / 1000} s`} (JOB_STALL_TIMEOUT_MS) and was stopped; submit it again`,
    });
    if (marked) {
      result.stalled.push(id);
      await deps.queue.remove(id).catch(() => 0); // its worker, if alive, sees the job ended at its next batch
    }
  }
  const active = await deps.prisma.job.findMany({
    where: {
      OR: [
        { status: 'queued', createdAt: { lt: new Date(now - (settings.queuedGraceMs ?? 5_000)) } },
        { status: 'running', updatedAt: { lt: new Date(now - settings.runningGraceMs) } },
      ],
    },
    select: { id: true, status: true },
    orderBy: { createdAt: 'asc' },
  });
  for (const job of active) {
    if (await deps.queue.getJob(job.id)) continue;
    // running -> queued first, so the row says what is true: no worker has it
    if (job.status === 'running') await jobLifecycle.markRequeued(deps.prisma, job.id, 'put back in the queue: the queue had lost it');
    await enqueueJob(deps.queue, job.id);
    result.requeued.push(job.id);
  }
  return result;
}

export interface Reconciler {
  /** one pass now (also run at start and every intervalMs) */
  run(): Promise<ReconcileResult>;
  stop(): void;
}

/** From the configuration: RECONCILE_INTERVAL_MS, JOB_STALL_TIMEOUT_MS; the grace of a running job is two lock durations. */
export function reconcileSettings(config: { reconcileIntervalMs: number; jobStallTimeoutMs: number; workerLockDurationMs: number }) {
  return { intervalMs: config.reconcileIntervalMs, stallTimeoutMs: config.jobStallTimeoutMs, runningGraceMs: 2 * config.workerLockDurationMs };
}

/**
 * Runs reconcileOnce at start and every intervalMs, then moves every unfinished sweep along (a trial
 * whose end no worker reported, a quota slot that freed up); errors (Redis or Postgres away) are logged
 * and retried next time.
 */
export function startReconciler(
  deps: ReconcileDeps,
  settings: ReconcileSettings & { intervalMs: number },
  log: { info(o: object, m: string): void; warn(o: object, m: string): void },
): Reconciler {
  let running: Promise<ReconcileResult> | undefined;
  const run = () =>
    (running ??= reconcileOnce(deps, settings)
      .then(async (r) => {
        if (r.requeued.length || r.stalled.length) log.info(r, 'reconciled the queue with Postgres');
        await advanceActiveSweeps(deps);
        return r;
      })
      .finally(() => (running = undefined)));
  const tick = () => void run().catch((err) => log.warn({ err }, 'queue reconciliation failed; retrying later'));
  tick();
  const timer = setInterval(tick, settings.intervalMs);
  timer.unref();
  return { run, stop: () => clearInterval(timer) };
}

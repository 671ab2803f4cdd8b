// Where a job changes state. Every transition is one guarded UPDATE (WHERE status IN …), so each is
// written at most once, a terminal job (succeeded/failed/cancelled) never changes again, and a worker
// and the API racing on the same job cannot both win.
import { ErrorCode, type EpochMetrics, type Evaluation, type JobError, type JobSpec, type StageTime } from '@graft/spec';
import type { Job, PrismaClient } from './generated/client.ts';
import { Prisma } from './generated/client.ts';

type Status = Job['status'];
const active: Status[] = ['queued', 'running'];

/** A new job row, queued. The BullMQ job is added by @graft/queue submitJob. */
export function createJobRow(prisma: PrismaClient, spec: JobSpec): Promise<Job> {
  return prisma.job.create({ data: { method: spec.method, spec: spec as unknown as Prisma.InputJsonValue } });
}

export type StartOutcome = 'started' | 'cancel_requested' | 'terminal' | 'missing';

/**
 * Begins an attempt: queued (or running, when a crashed worker's job is re-run) -> running.
 * A re-run starts clean: metrics of the lost attempt are deleted, so epochs are never duplicated or stale.
 */
export async function markRunning(prisma: PrismaClient, jobId: string): Promise<StartOutcome> {
  return prisma.$transaction(async (tx) => {
    const job = await tx.job.findUnique({ where: { id: jobId }, select: { status: true, cancelRequested: true, startedAt: true, createdAt: true, updatedAt: true, sweepId: true } });
    if (!job) return 'missing';
    if (!active.includes(job.status)) return 'terminal';
    if (job.cancelRequested) return 'cancel_requested';
    // a re-run waited since it was handed back (its row's last update), a first run since it was submitted
    const now = new Date();
    const queued: StageTime = { stage: 'queued', seconds: Math.max(0, now.getTime() - (job.startedAt ? job.updatedAt : job.createdAt).getTime()) / 1000 };
    const { count } = await tx.job.updateMany({
      where: { id: jobId, status: { in: active }, cancelRequested: false },
      data: {
        status: 'running',
        attempts: { increment: 1 },
        startedAt: job.startedAt ?? now,
        progress: 0,
        stage: 'starting',
        stageTimes: [queued] as unknown as Prisma.InputJsonValue,
        errorCode: null,
        errorMessage: null,
      },
    });
    if (count === 0) return 'cancel_requested';
    await tx.epochMetric.deleteMany({ where: { jobId } });
    await tx.evaluation.deleteMany({ where: { jobId } });
    // a sweep runs from its first trial's start
    if (job.sweepId) await tx.sweep.updateMany({ where: { id: job.sweepId, status: 'queued' }, data: { status: 'running' } });
    return 'started';
  });
}

export async function recordProgress(prisma: PrismaClient, jobId: string, progress: number, stage: string): Promise<void> {
  await prisma.job.updateMany({
    where: { id: jobId, status: 'running' },
    data: { progress: Math.min(1, Math.max(0, progress)), stage },
  });
}

/** The hyperparameters the running attempt trains with, each with why it was chosen (shown in GET /jobs/:id). */
export async function recordResolvedHyperparameters(prisma: PrismaClient, jobId: string, choices: Record<string, { value: unknown; why: string }>): Promise<void> {
  await prisma.job.updateMany({ where: { id: jobId, status: 'running' }, data: { resolvedHyperparameters: choices as Prisma.InputJsonValue } });
}

/** The attempt's stage times so far (the 'queued' entry markRunning wrote first, then what the worker measured). */
export async function recordStageTimes(prisma: PrismaClient, jobId: string, stages: StageTime[]): Promise<void> {
  await prisma.job.updateMany({ where: { id: jobId, status: 'running' }, data: { stageTimes: stages as unknown as Prisma.InputJsonValue } });
}

/** Writes one epoch's metrics; a retried attempt rewrites the row for that epoch instead of adding one. */
export async function recordEpoch(prisma: PrismaClient, jobId: string, m: EpochMetrics): Promise<void> {
  const data = {
    loss: m.loss,
    accuracy: m.accuracy,
    valLoss: m.valLoss,
    valAccuracy: m.valAccuracy,
    extra: m.extra === undefined ? Prisma.DbNull : (m.extra as Prisma.InputJsonValue),
  };
  await prisma.epochMetric.upsert({
    where: { jobId_epoch: { jobId, epoch: m.epoch } },
    create: { jobId, epoch: m.epoch, ...data },
    update: data,
  });
}

export async function recordEvaluation(prisma: PrismaClient, jobId: string, evaluation: Evaluation): Promise<void> {
  const data = evaluation as unknown as Prisma.InputJsonValue;
  await prisma.evaluation.upsert({ where: { jobId }, create: { jobId, data }, update: { data } });
}

/** running -> succeeded. Returns false if the job was no longer running (e.g. already finished). */
export async function markSucceeded(
  prisma: PrismaClient,
  jobId: string,
  result: { checkpointKey: string; classes: string[]; checkpointBytes?: number },
): Promise<boolean> {
  const { count } = await prisma.job.updateMany({
    where: { id: jobId, status: 'running' },
    data: {
      status: 'succeeded',
      progress: 1,
      stage: null,
      checkpointKey: result.checkpointKey,
      classes: result.classes,
      checkpointBytes: result.checkpointBytes === undefined ? undefined : BigInt(result.checkpointBytes),
      finishedAt: new Date(),
    },
  });
  return count === 1;
}

/** queued|running -> failed with a reason the user can act on. */
export async function markFailed(prisma: PrismaClient, jobId: string, error: JobError): Promise<boolean> {
  const { count } = await prisma.job.updateMany({
    where: { id: jobId, status: { in: active } },
    data: { status: 'failed', stage: null, errorCode: error.code, errorMessage: error.message, finishedAt: new Date() },
  });
  return count === 1;
}

/** queued|running -> cancelled. */
export async function markCancelled(prisma: PrismaClient, jobId: string): Promise<boolean> {
  const { count } = await prisma.job.updateMany({
    where: { id: jobId, status: { in: active } },
    data: { status: 'cancelled', stage: null, cancelRequested: true, finishedAt: new Date() },
  });
  return count === 1;
}

/**
 * queued|running -> cancelled with error code `pruned` and the reason: a sweep trial its early stopping
 * stopped. Its epochs stay (the sweep's report shows where it was stopped).
 */
export async function markPruned(prisma: PrismaClient, jobId: string, reason: string): Promise<boolean> {
  const { count } = await prisma.job.updateMany({
    where: { id: jobId, status: { in: active } },
    data: { status: 'cancelled', stage: null, cancelRequested: true, errorCode: ErrorCode.pruned, errorMessage: reason.slice(0, 2000), finishedAt: new Date() },
  });
  return count === 1;
}

/** running -> queued: the attempt ended without a verdict (internal error to retry, worker shutting down). */
export async function markRequeued(prisma: PrismaClient, jobId: string, why: string): Promise<void> {
  await prisma.job.updateMany({ where: { id: jobId, status: 'running' }, data: { status: 'queued', stage: why.slice(0, 500) } });
}

export type CancelRequestOutcome = { found: false } | { found: true; status: Status; accepted: boolean };

/** Flags an active job for cancellation; the worker stops it at its next batch. */
export async function requestCancel(prisma: PrismaClient, jobId: string): Promise<CancelRequestOutcome> {
  const { count } = await prisma.job.updateMany({ where: { id: jobId, status: { in: active } }, data: { cancelRequested: true } });
  const job = await prisma.job.findUnique({ where: { id: jobId }, select: { status: true } });
  if (!job) return { found: false };
  return { found: true, status: job.status, accepted: count === 1 };
}

export async function isCancelRequested(prisma: PrismaClient, jobId: string): Promise<boolean> {
  const job = await prisma.job.findUnique({ where: { id: jobId }, select: { cancelRequested: true, status: true } });
  return !job || job.cancelRequested || !active.includes(job.status);
}

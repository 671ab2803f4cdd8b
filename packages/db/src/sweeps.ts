// Sweep rows: the sweep, its trials (Job rows carrying sweepId and trialIndex) and ASHA's rung records.
// Every decision about a sweep (top up, finish, pick the best, prune at a rung) runs with the sweep row
// locked FOR UPDATE, so API and workers deciding at once take turns and never create a trial twice.
import type { Evaluation, SweepSpec, TrialStatus } from '@graft/spec';
import type { Job, PrismaClient, Sweep } from './generated/client.ts';
import { Prisma } from './generated/client.ts';

export type Tx = Prisma.TransactionClient;

/** Long enough for a top-up of many trials on a loaded database. */
const txOptions = { timeout: 30_000, maxWait: 30_000 };

export const activeSweepStatuses: Sweep['status'][] = ['queued', 'running'];

export function createSweepRow(prisma: PrismaClient, tenantId: string, spec: SweepSpec): Promise<Sweep> {
  return prisma.sweep.create({ data: { tenantId, spec: spec as unknown as Prisma.InputJsonValue } });
}

/** Runs `fn` with the sweep row locked; null if there is no such sweep. */
export function withLockedSweep<T>(prisma: PrismaClient, sweepId: string, fn: (tx: Tx, sweep: Sweep) => Promise<T>): Promise<T | null> {
  return prisma.$transaction(async (tx) => {
    const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "Sweep" WHERE id = ${sweepId}::uuid FOR UPDATE`;
    if (locked.length === 0) return null;
    return fn(tx, await tx.sweep.findUniqueOrThrow({ where: { id: sweepId } }));
  }, txOptions);
}

const trialSelect = {
  id: true,
  status: true,
  errorCode: true,
  trialIndex: true,
  spec: true,
  evaluation: { select: { data: true } },
  epochs: { select: { epoch: true, loss: true, accuracy: true, valLoss: true, valAccuracy: true }, orderBy: { epoch: 'asc' } },
} satisfies Prisma.JobSelect;

export type TrialRow = Prisma.JobGetPayload<{ select: typeof trialSelect }>;

/** The sweep's trials in sampling order, with what ranks them (epochs, evaluation). */
export function trialsOf(db: Tx | PrismaClient, sweepId: string): Promise<TrialRow[]> {
  return db.job.findMany({ where: { sweepId }, select: trialSelect, orderBy: { trialIndex: 'asc' } });
}

export const evaluationOf = (t: TrialRow) => (t.evaluation?.data ?? null) as Evaluation | null;

/** The job's status, or pruned for a trial its early stopping stopped (job-lifecycle markPruned). */
export function trialStatus(job: Pick<Job, 'status' | 'errorCode'>): TrialStatus {
  return job.status === 'cancelled' && job.errorCode === 'pruned' ? 'pruned' : job.status;
}

/**
 * Records a trial's objective at a rung (a retried attempt overwrites its own record) and returns the
 * objectives of every trial recorded there so far, this one's included.
 */
export async function recordRung(prisma: PrismaClient, r: { sweepId: string; rung: number; jobId: string; objective: number }): Promise<number[]> {
  const rows = await withLockedSweep(prisma, r.sweepId, async (tx) => {
    await tx.sweepRung.upsert({
      where: { sweepId_rung_jobId: { sweepId: r.sweepId, rung: r.rung, jobId: r.jobId } },
      create: r,
      update: { objective: r.objective },
    });
    return tx.sweepRung.findMany({ where: { sweepId: r.sweepId, rung: r.rung }, select: { objective: true } });
  });
  return (rows ?? []).map((x) => x.objective);
}

export function activeSweepIds(prisma: PrismaClient): Promise<string[]> {
  return prisma.sweep.findMany({ where: { status: { in: activeSweepStatuses } }, select: { id: true }, orderBy: { createdAt: 'asc' } }).then((rows) => rows.map((r) => r.id));
}

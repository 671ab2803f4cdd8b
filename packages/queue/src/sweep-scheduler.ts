// Moves a sweep along: with the sweep row locked, keeps up to parallelTrials trials queued or running
// (admitted under the tenant's quota like any job: a full quota just waits for the next call), records
// the best trial, and ends the sweep once maxTrials trials ended (succeeded if one succeeded) or
// maxFailedTrials failed. Called when a sweep is created, when a trial ends, and on every reconciler
// tick, so a killed worker or a restarted API never leaves a sweep behind. Trials are ordinary jobs.
import { sweeps, tenants, type PrismaClient } from '@graft/db';
import { ErrorCode, type SweepSpec } from '@graft/spec';
import { finalObjective, isBetter, sampleTrials, trialJobSpec } from '@graft/sweeps';
import type { Queue } from 'bullmq';
import { cancelJob } from './job-commands.ts';
import { enqueueJob, type JobData } from './job-queue.ts';

export interface SweepDeps {
  prisma: PrismaClient;
  queue: Queue<JobData>;
}

interface Decision {
  /** trials created now, to hand to the workers */
  created: string[];
  /** unfinished trials to cancel (the sweep ended) */
  cancel: string[];
}

const isActive = (status: string) => status === 'queued' || status === 'running';

export async function advanceSweep(deps: SweepDeps, sweepId: string): Promise<void> {
  const decision = await sweeps.withLockedSweep(deps.prisma, sweepId, async (tx, sweep): Promise<Decision> => {
    const none: Decision = { created: [], cancel: [] };
    if (!sweeps.activeSweepStatuses.includes(sweep.status)) return none;
    const spec = sweep.spec as unknown as SweepSpec;
    const { objective, maxFailedTrials, parallelTrials } = spec.search;
    const trials = await sweeps.trialsOf(tx, sweepId);

    let best: { jobId: string; objective: number } | null = null;
    for (const t of trials) {
      if (t.status !== 'succeeded') continue;
      const v = finalObjective(objective, t.epochs, sweeps.evaluationOf(t));
      if (v !== null && (!best || isBetter(objective, v, best.objective))) best = { jobId: t.id, objective: v };
    }
    const active = trials.filter((t) => isActive(t.status));
    const failed = trials.filter((t) => t.status === 'failed').length;
    const plans = sampleTrials(spec);
    const data = { bestJobId: best?.jobId ?? null, bestObjective: best?.objective ?? null };

    if (maxFailedTrials !== undefined && failed >= maxFailedTrials) {
      const message = `${failed} trials failed, the sweep's maxFailedTrials; GET /jobs/{id} of a failed trial says why`;
      await tx.sweep.update({ where: { id: sweepId }, data: { ...data, status: 'failed', errorCode: ErrorCode.trialsFailed, errorMessage: message, finishedAt: new Date() } });
      return { created: [], cancel: active.map((t) => t.id) };
    }
    if (trials.length >= plans.length && active.length === 0) {
      const ended = best
        ? { status: 'succeeded' as const }
        : { status: 'failed' as const, errorCode: ErrorCode.trialsFailed, errorMessage: 'no trial succeeded; GET /jobs/{id} of the trials says why' };
      await tx.sweep.update({ where: { id: sweepId }, data: { ...data, ...ended, finishedAt: new Date() } });
      return none;
    }
    const created: string[] = [];
    for (let next = trials.length, running = active.length; running < parallelTrials && next < plans.length; next++, running++) {
      const admission = await tenants.admitInTransaction(tx, sweep.tenantId, trialJobSpec(spec, plans[next]), { sweepId, trialIndex: next });
      if (!admission.admitted) break; // the tenant's quota is full: the next trial's end or tick tries again
      created.push(admission.job.id);
    }
    await tx.sweep.update({ where: { id: sweepId }, data });
    return { created, cancel: [] };
  });
  if (!decision) return;
  // After the commit, so a worker taking the job finds its row. A failed add leaves the row queued:
  // the reconciler puts queued jobs missing from the queue back.
  for (const id of decision.created) await enqueueJob(deps.queue, id);
  for (const id of decision.cancel) await cancelJob(deps, id);
}

/** advanceSweep for the sweep this job is a trial of, if any (after the job changed state). */
export async function advanceSweepOfJob(deps: SweepDeps, jobId: string): Promise<void> {
  const job = await deps.prisma.job.findUnique({ where: { id: jobId }, select: { sweepId: true } });
  if (job?.sweepId) await advanceSweep(deps, job.sweepId);
}

/** Every unfinished sweep, one after another (the reconciler's tick). */
export async function advanceActiveSweeps(deps: SweepDeps): Promise<void> {
  for (const id of await sweeps.activeSweepIds(deps.prisma)) await advanceSweep(deps, id);
}

export type CancelSweepOutcome = 'not_found' | 'terminal' | 'cancelled';

/** Ends the sweep cancelled, then cancels every unfinished trial (queued ones at once, running ones at their next batch). */
export async function cancelSweep(deps: SweepDeps, sweepId: string): Promise<CancelSweepOutcome> {
  const result = await sweeps.withLockedSweep(deps.prisma, sweepId, async (tx, sweep) => {
    if (!sweeps.activeSweepStatuses.includes(sweep.status)) return { outcome: 'terminal' as const, trials: [] };
    await tx.sweep.update({ where: { id: sweepId }, data: { status: 'cancelled', finishedAt: new Date() } });
    const trials = await tx.job.findMany({ where: { sweepId, status: { in: ['queued', 'running'] } }, select: { id: true } });
    return { outcome: 'cancelled' as const, trials: trials.map((t) => t.id) };
  });
  if (!result) return 'not_found';
  for (const id of result.trials) await cancelJob(deps, id);
  return result.outcome;
}

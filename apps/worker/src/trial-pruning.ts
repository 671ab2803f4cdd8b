// Early stopping of a sweep trial (ASHA): after each epoch the worker records the trial's objective at
// rung epochs in Postgres (where every worker sees it) and, if the trial is in the bottom of those
// recorded there, aborts the engine through its cancellation signal: the run stops at the next batch and
// the job ends pruned (cancelled, error code pruned), its epochs kept. The final epoch is no rung: a
// trial that trained all its epochs has finished.
import { sweeps, type PrismaClient } from '@graft/db';
import { ErrorCode, GraftError, type EarlyStopping, type EpochMetrics, type SweepObjective, type SweepSpec } from '@graft/spec';
import { ashaDecision, epochObjective, isRungEpoch } from '@graft/sweeps';

export class TrialPruner {
  private readonly controller = new AbortController();
  private maxEpochs = Infinity;
  /** why the trial was stopped, once it was */
  reason: string | undefined;

  private constructor(
    private readonly prisma: PrismaClient,
    private readonly jobId: string,
    private readonly sweepId: string,
    private readonly objective: SweepObjective,
    private readonly rule: EarlyStopping,
  ) {}

  /** The pruner of a sweep trial with early stopping, else undefined. */
  static async of(prisma: PrismaClient, job: { id: string; sweepId: string | null }): Promise<TrialPruner | undefined> {
    if (!job.sweepId) return undefined;
    const sweep = await prisma.sweep.findUnique({ where: { id: job.sweepId }, select: { spec: true } });
    const search = (sweep?.spec as unknown as SweepSpec | undefined)?.search;
    if (!search?.earlyStopping) return undefined;
    return new TrialPruner(prisma, job.id, job.sweepId, search.objective, search.earlyStopping);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The epochs the run will train (resolved by the engine), whose last is no rung. */
  setEpochs(epochs: number | undefined): void {
    if (epochs !== undefined) this.maxEpochs = epochs;
  }

  async afterEpoch(m: EpochMetrics): Promise<void> {
    if (this.reason || m.epoch >= this.maxEpochs || !isRungEpoch(m.epoch, this.rule)) return;
    const value = epochObjective(this.objective, m);
    if (value === null) return;
    const recorded = await sweeps.recordRung(this.prisma, { sweepId: this.sweepId, rung: m.epoch, jobId: this.jobId, objective: value });
    if (ashaDecision(this.objective, this.rule.reductionFactor, recorded, value) === 'continue') return;
    this.reason =
      `pruned by the sweep's early stopping (ASHA) after epoch ${m.epoch}: ${this.objective} ${value} is in the bottom ` +
      `${Math.round(100 * (1 - 1 / this.rule.reductionFactor))} % of the ${recorded.length} trials recorded at this rung`;
    this.controller.abort(new GraftError(ErrorCode.cancelled, this.reason));
  }
}

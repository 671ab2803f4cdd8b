// How a sweep row and its trials are shown to clients (SweepView in packages/spec): the leaderboard
// ranks succeeded trials by the objective; the others follow in sampling order.
import { sweeps, type Sweep } from '@graft/db';
import type { SweepSpec, SweepView, TrialView } from '@graft/spec';
import { bestEpochObjective, finalObjective, rankBy, sampleTrials } from '@graft/sweeps';

export function toSweepView(sweep: Sweep, trials: sweeps.TrialRow[]): SweepView {
  const spec = sweep.spec as unknown as SweepSpec;
  const { objective } = spec.search;
  const plans = sampleTrials(spec);
  const views: TrialView[] = trials.map((t) => {
    const index = t.trialIndex ?? 0;
    return {
      jobId: t.id,
      index,
      hyperparameters: plans[index]?.values ?? {},
      status: sweeps.trialStatus(t),
      objective: t.status === 'succeeded' ? finalObjective(objective, t.epochs, sweeps.evaluationOf(t)) : bestEpochObjective(objective, t.epochs),
      epochs: t.epochs.length,
    };
  });
  return {
    id: sweep.id,
    status: sweep.status,
    objective,
    spec,
    trials: rankBy(objective, views, (v) => (v.status === 'succeeded' ? v.objective : null)),
    best: sweep.bestJobId && sweep.bestObjective !== null ? { jobId: sweep.bestJobId, objective: sweep.bestObjective } : null,
    error: sweep.errorCode ? { code: sweep.errorCode, message: sweep.errorMessage ?? sweep.errorCode } : null,
    createdAt: sweep.createdAt.toISOString(),
    finishedAt: sweep.finishedAt ? sweep.finishedAt.toISOString() : null,
  };
}

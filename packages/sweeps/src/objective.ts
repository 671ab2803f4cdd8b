// Which trial is better: valAccuracy and macroF1 higher, valLoss lower. The final objective of a trial
// is read from what its job recorded; the per-epoch one (for ASHA's rungs and a running trial's
// standing) exists for valAccuracy and valLoss only.
import type { EpochMetrics, Evaluation, SweepObjective } from '@graft/spec';

export const higherIsBetter = (objective: SweepObjective) => objective !== 'valLoss';

/** a strictly better than b */
export const isBetter = (objective: SweepObjective, a: number, b: number) => (higherIsBetter(objective) ? a > b : a < b);

/** The objective of one epoch; null for macroF1 (only the final evaluation has it) or when not measured. */
export function epochObjective(objective: SweepObjective, m: Pick<EpochMetrics, 'valLoss' | 'valAccuracy'>): number | null {
  const v = objective === 'valLoss' ? m.valLoss : objective === 'valAccuracy' ? m.valAccuracy : null;
  return v !== null && Number.isFinite(v) ? v : null;
}

/** The best per-epoch value so far. */
export function bestEpochObjective(objective: SweepObjective, epochs: Pick<EpochMetrics, 'valLoss' | 'valAccuracy'>[]): number | null {
  let best: number | null = null;
  for (const m of epochs) {
    const v = epochObjective(objective, m);
    if (v !== null && (best === null || isBetter(objective, v, best))) best = v;
  }
  return best;
}

/**
 * A finished trial's objective: the served model's accuracy or macro-F1 on the validation split (its
 * evaluation), or the lowest validation loss of any epoch (the weights early stopping restores).
 */
export function finalObjective(objective: SweepObjective, epochs: Pick<EpochMetrics, 'valLoss' | 'valAccuracy'>[], evaluation: Evaluation | null): number | null {
  if (objective === 'valLoss') return bestEpochObjective(objective, epochs);
  if (!evaluation) return null;
  return objective === 'macroF1' ? evaluation.macroF1 : evaluation.accuracy;
}

/** Best first; items without a value keep their order after the ranked ones. */
export function rankBy<T>(objective: SweepObjective, items: readonly T[], value: (t: T) => number | null): T[] {
  return items
    .map((item, i) => ({ item, i, v: value(item) }))
    .sort((a, b) => {
      if (a.v === null || b.v === null) return a.v === null && b.v === null ? a.i - b.i : a.v === null ? 1 : -1;
      return isBetter(objective, a.v, b.v) ? -1 : isBetter(objective, b.v, a.v) ? 1 : a.i - b.i;
    })
    .map((x) => x.item);
}

// Asynchronous successive halving (ASHA, Li et al. 2020, as Ray Tune runs it): rungs at
// gracePeriod·rf^k epochs; a trial reaching a rung is compared with every trial recorded there so far
// (no waiting for a full bracket), and stopped if it is in the bottom 1 − 1/rf of them.
import type { EarlyStopping, SweepObjective } from '@graft/spec';
import { isBetter } from './objective.ts';

/** Whether `epoch` is a rung: gracePeriod · reductionFactor^k for some k ≥ 0. */
export function isRungEpoch(epoch: number, es: Pick<EarlyStopping, 'gracePeriod' | 'reductionFactor'>): boolean {
  for (let r = es.gracePeriod; r <= epoch; r *= es.reductionFactor) if (r === epoch) return true;
  return false;
}

export type AshaDecision = 'continue' | 'prune';

/**
 * `recorded`: the objective of every trial recorded at this rung, this trial's `mine` included. Until
 * reductionFactor trials are there nothing is stopped; then the top ⌊n/rf⌋ (at least one) go on, ties
 * with them included.
 */
export function ashaDecision(objective: SweepObjective, reductionFactor: number, recorded: readonly number[], mine: number): AshaDecision {
  if (recorded.length < reductionFactor) return 'continue';
  const keep = Math.max(1, Math.floor(recorded.length / reductionFactor));
  const better = recorded.filter((v) => isBetter(objective, v, mine)).length;
  return better >= keep ? 'prune' : 'continue';
}

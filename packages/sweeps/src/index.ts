export { sampleTrials, trialJobSpec, sweepSeed, spaceEntries, isRange, type TrialPlan } from './sampling.ts';
export { ashaDecision, isRungEpoch, type AshaDecision } from './asha.ts';
export { higherIsBetter, isBetter, epochObjective, bestEpochObjective, finalObjective, rankBy } from './objective.ts';

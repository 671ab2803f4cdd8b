// The sweep spec and view: a hyper-parameter search is a job spec (method, data, backbone, fixed
// hyperparameters) plus `search`, whose `space` names job hyper-parameters only, each with the job's
// own schema for its values, so a value a job would refuse is refused here with the same field path.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { BackboneRef, Hyperparameters, JobSpec } from './job-spec.ts';
import { JobError } from './errors.ts';

const hp = Hyperparameters.properties;

const choices = <T extends TSchema>(values: T) =>
  Type.Array(values, { minItems: 1, maxItems: 64, description: 'Values to try (grid: every one; random: one drawn uniformly per trial).' });

/** A numeric hyper-parameter: a list of values or a range whose ends obey the job schema's bounds. */
const numeric = <T extends TSchema>(value: T) =>
  Type.Union([
    choices(value),
    Type.Object(
      {
        min: value,
        max: value,
        scale: Type.Optional(Type.Union([Type.Literal('linear'), Type.Literal('log')], { description: 'log draws uniformly in log space (min > 0). Default linear.' })),
        integer: Type.Optional(Type.Boolean({ description: 'Round each draw to an integer (always so for integer hyper-parameters).' })),
      },
      { additionalProperties: false, description: 'random search only: a value drawn in [min, max].' },
    ),
  ]);

/** Every job hyper-parameter (and backbone, as a list): a name that is none of them is refused. */
export const SearchSpace = Type.Object(
  {
    backbone: Type.Optional(choices(BackboneRef)),
    epochs: Type.Optional(numeric(hp.epochs)),
    batchSize: Type.Optional(numeric(hp.batchSize)),
    learningRate: Type.Optional(numeric(hp.learningRate)),
    imageSize: Type.Optional(numeric(hp.imageSize)),
    trainableBlocks: Type.Optional(choices(hp.trainableBlocks)),
    validationSplit: Type.Optional(numeric(hp.validationSplit)),
    augment: Type.Optional(choices(hp.augment)),
    earlyStoppingPatience: Type.Optional(numeric(hp.earlyStoppingPatience)),
    seed: Type.Optional(numeric(hp.seed)),
    classifier: Type.Optional(choices(hp.classifier)),
    features: Type.Optional(choices(hp.features)),
    linearProbeFirst: Type.Optional(choices(hp.linearProbeFirst)),
    flipViews: Type.Optional(choices(hp.flipViews)),
    targetEntropyWeight: Type.Optional(numeric(hp.targetEntropyWeight)),
    lambda: Type.Optional(numeric(hp.lambda)),
  },
  { $id: 'SearchSpace', additionalProperties: false, minProperties: 1, description: 'Hyper-parameters to search: job hyper-parameter names (and backbone).' },
);
export type SearchSpace = Static<typeof SearchSpace>;
export type SpaceName = keyof SearchSpace;
/** A range entry of the space (random search). */
export interface SpaceRange {
  min: number;
  max: number;
  scale?: 'linear' | 'log';
  integer?: boolean;
}

export const SweepObjective = Type.Union([Type.Literal('valAccuracy'), Type.Literal('valLoss'), Type.Literal('macroF1')], {
  $id: 'SweepObjective',
  description:
    'What ranks the trials: valAccuracy and macroF1 of the final model on the validation split (higher is better), or the lowest validation loss of any epoch (lower is better).',
});
export type SweepObjective = Static<typeof SweepObjective>;

export const EarlyStopping = Type.Object(
  {
    type: Type.Literal('asha'),
    gracePeriod: Type.Integer({ minimum: 1, maximum: 500, description: 'Epochs every trial trains before it can be stopped; rungs are at gracePeriod·reductionFactor^k epochs.' }),
    reductionFactor: Type.Integer({ minimum: 2, maximum: 16, description: 'A trial reaching a rung in the bottom 1 − 1/reductionFactor of those recorded there is stopped.' }),
  },
  { additionalProperties: false, description: 'Asynchronous successive halving (ASHA): stopped trials end pruned, their metrics kept. Needs a per-epoch objective (valAccuracy or valLoss).' },
);
export type EarlyStopping = Static<typeof EarlyStopping>;

export const SweepSearch = Type.Object(
  {
    algorithm: Type.Union([Type.Literal('random'), Type.Literal('grid')], { description: 'grid: every combination of the lists (at most maxTrials of them); random: maxTrials draws.' }),
    maxTrials: Type.Integer({ minimum: 1, maximum: 100 }),
    parallelTrials: Type.Integer({ minimum: 1, maximum: 32, description: 'Trials queued or running at once (they also count against the tenant\'s maxConcurrentJobs).' }),
    maxFailedTrials: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'The sweep fails (and its unfinished trials are cancelled) once this many trials failed. Default: no limit.' })),
    objective: SweepObjective,
    space: SearchSpace,
    earlyStopping: Type.Optional(EarlyStopping),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, description: 'Seeds the sampling and, unless set, every trial\'s seed hyper-parameter. Default: derived from the spec, so the same spec samples the same trials.' })),
  },
  { additionalProperties: false },
);
export type SweepSearch = Static<typeof SweepSearch>;

/** A job spec (the trials' method, data, backbone and fixed hyperparameters) plus the search. */
export const SweepSpec = Type.Object({ ...JobSpec.properties, search: SweepSearch }, { $id: 'SweepSpec', additionalProperties: false });
export type SweepSpec = Static<typeof SweepSpec>;

export const SweepStatus = Type.Union(
  [Type.Literal('queued'), Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('cancelled')],
  { $id: 'SweepStatus' },
);
export type SweepStatus = Static<typeof SweepStatus>;

export const TrialStatus = Type.Union(
  [Type.Literal('queued'), Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('cancelled'), Type.Literal('pruned')],
  { $id: 'TrialStatus', description: 'The job\'s status, or pruned: stopped by early stopping (its job is cancelled with error code pruned).' },
);
export type TrialStatus = Static<typeof TrialStatus>;

export const TrialView = Type.Object(
  {
    jobId: Type.String({ description: 'An ordinary job: GET /jobs/{id}, its metrics, report and (if succeeded) model and predictions.' }),
    index: Type.Integer({ description: 'Position in the sweep\'s seeded sampling order (0-based).' }),
    hyperparameters: Type.Record(Type.String(), Type.Unknown(), { description: 'What this trial sampled from search.space.' }),
    status: TrialStatus,
    objective: Type.Union([Type.Number(), Type.Null()], { description: 'The final objective once succeeded; before, the best per-epoch value so far (valAccuracy, valLoss).' }),
    epochs: Type.Integer({ description: 'Epochs recorded.' }),
  },
  { $id: 'TrialView' },
);
export type TrialView = Static<typeof TrialView>;

export const SweepView = Type.Object(
  {
    id: Type.String(),
    status: SweepStatus,
    objective: SweepObjective,
    spec: Type.Unknown({ description: 'The submitted sweep spec.' }),
    trials: Type.Array(TrialView, { description: 'Trials started so far, best first by objective (unranked ones last, in sampling order).' }),
    best: Type.Union([Type.Object({ jobId: Type.String(), objective: Type.Number() }), Type.Null()], { description: 'The best succeeded trial so far.' }),
    error: Type.Union([JobError, Type.Null()], { description: 'Why a failed sweep failed.' }),
    createdAt: Type.String({ format: 'date-time' }),
    finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { $id: 'SweepView' },
);
export type SweepView = Static<typeof SweepView>;

export const SweepList = Type.Object(
  { items: Type.Array(SweepView), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() },
  { $id: 'SweepList' },
);
export type SweepList = Static<typeof SweepList>;

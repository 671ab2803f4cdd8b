import { Type, type Static } from '@sinclair/typebox';
import { JobStatus } from './job-view.ts';

const Num = Type.Number();
const NullableNum = Type.Union([Type.Number(), Type.Null()]);

export const EpochMetrics = Type.Object(
  {
    epoch: Type.Integer({ minimum: 1 }),
    loss: Num,
    accuracy: NullableNum,
    valLoss: NullableNum,
    valAccuracy: NullableNum,
    // method-specific extras, e.g. sourceLoss/targetLoss (multi_task), labelLoss/domainLoss/domainAccuracy/targetAccuracy/lambda (DANN)
    extra: Type.Optional(Type.Record(Type.String(), NullableNum)),
  },
  { $id: 'EpochMetrics' },
);
export type EpochMetrics = Static<typeof EpochMetrics>;

export const ClassMetrics = Type.Object({
  label: Type.String(),
  precision: Num,
  recall: Num,
  f1: Num,
  support: Type.Integer(),
});
export type ClassMetrics = Static<typeof ClassMetrics>;

export const Evaluation = Type.Object(
  {
    split: Type.String({ description: 'Which data was evaluated: validation, target, …' }),
    accuracy: Num,
    macroF1: Num,
    perClass: Type.Array(ClassMetrics),
    confusionMatrix: Type.Object({ labels: Type.Array(Type.String()), matrix: Type.Array(Type.Array(Type.Integer())) }),
    topK: Type.Record(Type.String(), Num, { description: 'top-k accuracy keyed by k' }),
    servedEpoch: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          "The epoch whose weights the served model holds (early stopping keeps the best on the validation loss); 0: the starting model, the linear probe the head began as, which no epoch beat. feature_extraction's one epoch is its fit. Absent on jobs evaluated before it was recorded.",
      }),
    ),
    servedFit: Type.Optional(
      Type.Object(
        {
          images: Type.Integer({ minimum: 0, description: 'Labelled images of the task (the source domain for domain_adaptation) that the served model was fitted on.' }),
          refit: Type.Boolean({
            description:
              "true: no validation set was given, so a part of the labelled images was held out; this evaluation scores the model fitted WITHOUT them. The served model is that linear probe (feature_extraction's, or LP-FT's when servedEpoch is 0) refitted with the same C on every labelled image, the held-out ones included (scikit-learn's LogisticRegressionCV refit): more data, not scored here. A validation set you give is never trained on.",
          }),
          C: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: "With refit: the probe's inverse L2 strength (scikit-learn's C), chosen by cross-validation on the training part and kept for the refit." })),
        },
        { description: 'What the served model was fitted on. Absent on jobs evaluated before it was recorded.' },
      ),
    ),
  },
  { $id: 'Evaluation' },
);
export type Evaluation = Static<typeof Evaluation>;

export const StageTime = Type.Object(
  {
    stage: Type.String({ description: "'queued', 'dataset: download', 'dataset: extract and check', 'features', 'training', 'evaluating', 'refitting', 'saving' …" }),
    seconds: Type.Number({ minimum: 0, description: 'wall-clock time the stage took' }),
  },
  { $id: 'StageTime' },
);
export type StageTime = Static<typeof StageTime>;

export const MetricsView = Type.Object(
  {
    jobId: Type.String(),
    status: JobStatus,
    epochs: Type.Array(EpochMetrics),
    evaluation: Type.Union([Evaluation, Type.Null()]),
    stages: Type.Array(StageTime, { description: 'Where the time of the latest attempt went, in order; grows while the job runs.' }),
  },
  { $id: 'MetricsView' },
);
export type MetricsView = Static<typeof MetricsView>;

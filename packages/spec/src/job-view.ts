import { Type, type Static } from '@sinclair/typebox';
import { Method } from './job-spec.ts';
import { JobError } from './errors.ts';

export const JobStatus = Type.Union(
  [Type.Literal('queued'), Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('cancelled')],
  { $id: 'JobStatus' },
);
export type JobStatus = Static<typeof JobStatus>;
export const terminalStatuses: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];

const Timestamp = Type.String({ format: 'date-time' });

export const ResolvedHyperparameter = Type.Object(
  {
    value: Type.Union([Type.Number(), Type.String(), Type.Boolean()]),
    why: Type.String({ description: "'set by you', what in the data chose it, or why it is the default." }),
  },
  { $id: 'ResolvedHyperparameter' },
);
export type ResolvedHyperparameter = Static<typeof ResolvedHyperparameter>;

export const JobPreview = Type.Object(
  {
    resolvedHyperparameters: Type.Record(Type.String(), ResolvedHyperparameter, {
      description: 'What a job with this spec would train with, and why each: as GET /jobs/{id} will show once it starts.',
    }),
    decidedAtStart: Type.Array(Type.String(), {
      description: "Hyper-parameters the job settles only when it starts: chosen from data given by URL (upload it to preview them), your own model's input size, or the seed drawn per job.",
    }),
  },
  { $id: 'JobPreview' },
);
export type JobPreview = Static<typeof JobPreview>;

export const JobView = Type.Object(
  {
    id: Type.String(),
    method: Method,
    status: JobStatus,
    progress: Type.Number({ minimum: 0, maximum: 1 }),
    stage: Type.Union([Type.String(), Type.Null()], { description: 'What the job is doing now (downloading, features, training, evaluating…).' }),
    classes: Type.Union([Type.Array(Type.String()), Type.Null()]),
    spec: Type.Unknown({ description: 'The submitted job spec.' }),
    createdAt: Timestamp,
    startedAt: Type.Union([Timestamp, Type.Null()]),
    finishedAt: Type.Union([Timestamp, Type.Null()]),
    error: Type.Union([JobError, Type.Null()]),
    resolvedHyperparameters: Type.Union([Type.Record(Type.String(), ResolvedHyperparameter), Type.Null()], {
      description: 'Every hyperparameter the job trains with, each with why it was chosen; null until training starts.',
    }),
    sweepId: Type.Union([Type.String(), Type.Null()], { description: 'The sweep this job is a trial of (GET /sweeps/{id}); null for a job submitted on its own.' }),
    trialIndex: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: "The trial's position in its sweep's sampling order (0-based, as in TrialView.index); null outside a sweep." }),
  },
  { $id: 'JobView' },
);
export type JobView = Static<typeof JobView>;

export const JobList = Type.Object(
  {
    items: Type.Array(JobView),
    total: Type.Integer(),
    limit: Type.Integer(),
    offset: Type.Integer(),
  },
  { $id: 'JobList' },
);
export type JobList = Static<typeof JobList>;

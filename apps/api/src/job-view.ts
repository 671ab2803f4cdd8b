// How a job row in Postgres is shown to clients (JobView / MetricsView in packages/spec).
import type { EpochMetric, Evaluation as EvaluationRow, Job } from '@graft/db';
import type { EpochMetrics, Evaluation, JobView, Method, MetricsView, ResolvedHyperparameter, StageTime } from '@graft/spec';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toJobView(job: Job): JobView {
  return {
    id: job.id,
    method: job.method as Method,
    status: job.status,
    progress: job.progress,
    stage: job.stage,
    classes: (job.classes as string[] | null) ?? null,
    spec: job.spec,
    createdAt: job.createdAt.toISOString(),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    error: job.errorCode ? { code: job.errorCode, message: job.errorMessage ?? job.errorCode } : null,
    resolvedHyperparameters: (job.resolvedHyperparameters as Record<string, ResolvedHyperparameter> | null) ?? null,
    sweepId: job.sweepId,
    trialIndex: job.trialIndex,
  };
}

export function toEpochMetrics(row: EpochMetric): EpochMetrics {
  const m: EpochMetrics = { epoch: row.epoch, loss: row.loss, accuracy: row.accuracy, valLoss: row.valLoss, valAccuracy: row.valAccuracy };
  if (row.extra !== null) m.extra = row.extra as Record<string, number | null>;
  return m;
}

export function toMetricsView(job: Job, epochs: EpochMetric[], evaluation: EvaluationRow | null): MetricsView {
  return {
    jobId: job.id,
    status: job.status,
    epochs: epochs.map(toEpochMetrics),
    evaluation: evaluation ? (evaluation.data as Evaluation) : null,
    stages: (job.stageTimes as StageTime[] | null) ?? [],
  };
}

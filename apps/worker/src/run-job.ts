// One attempt at one job: datasets -> engine train -> checkpoint in storage -> metrics in Postgres,
// with every state change going through @graft/db's job lifecycle.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { jobLifecycle } from '@graft/db';
import type { ImageDataset } from '@graft/datasets';
import { exportMetadata, train } from '@graft/engine';
import { exportToOnnx, UnsupportedLayerError } from '@graft/onnx';
import type * as tf from '@tensorflow/tfjs';
import { GraftError, ErrorCode, type DatasetRef, type JobSpec, type StageTime } from '@graft/spec';
import { safeFetch } from '@graft/safe-fetch';
import { checkpointPrefix, uploadFolder } from '@graft/storage';
import { CancelWatch } from './cancel-watch.ts';
import { loadDataset, type DatasetDeps } from './dataset-input.ts';
import { admitCheckpoint } from './checkpoint-quota.ts';
import { shutdownSignal } from './shutdown-broadcast.ts';
import { StageClock } from './stage-clock.ts';
import { TrialPruner } from './trial-pruning.ts';

export interface RunDeps extends DatasetDeps {
  logger: Logger;
}

export interface Attempt {
  /** attempts that already failed (BullMQ attemptsMade) */
  failedBefore: number;
  maxAttempts: number;
  /** mirrors progress to the queue (BullMQ job.updateProgress) */
  reportProgress?: (p: { progress: number; stage: string }) => Promise<void>;
}

export type RunOutcome = 'succeeded' | 'failed' | 'cancelled' | 'pruned' | 'skipped';

// Share of the progress bar before training starts (datasets) and after it (saving).
const datasetsShare = 0.05;
const trainingShare = 0.9;

export async function runJob(deps: RunDeps, jobId: string, attempt: Attempt): Promise<RunOutcome> {
  const { prisma } = deps;
  const log = deps.logger.child({ jobId });
  const start = await jobLifecycle.markRunning(prisma, jobId);
  if (start === 'missing' || start === 'terminal') {
    log.warn({ start }, 'job is not runnable; skipping');
    return 'skipped';
  }
  if (start === 'cancel_requested') {
    await jobLifecycle.markCancelled(prisma, jobId);
    return 'cancelled';
  }
  const row = await prisma.job.findUniqueOrThrow({ where: { id: jobId } });
  const spec = row.spec as unknown as JobSpec;
  log.info({ method: spec.method, attempt: attempt.failedBefore + 1 }, 'job started');

  const watch = new CancelWatch(() => jobLifecycle.isCancelRequested(prisma, jobId));
  const shutdown = shutdownSignal();
  const pruner = await TrialPruner.of(prisma, row);
  // the engine and the downloads stop for a cancel, a sweep's early stopping or the process shutting down; the first two are recorded
  const signal = AbortSignal.any([watch.signal, shutdown, ...(pruner ? [pruner.signal] : [])]);
  const work = await mkdtemp(path.join(tmpdir(), `graft-job-${jobId}-`));
  const clock = new StageClock((row.stageTimes as StageTime[] | null) ?? [], (stages) => jobLifecycle.recordStageTimes(prisma, jobId, stages));
  let lastWrite = 0;
  let lastStage = '';
  const progress = async (fraction: number, stage: string) => {
    await watch.pollIfDue();
    if (stage === 'done') await clock.end();
    else if (!stage.startsWith('downloading ')) await clock.begin(stage); // a dataset's own steps are timed below
    // Throttled: the engine reports every batch; Postgres needs a figure a second or so.
    if (stage === lastStage && Date.now() - lastWrite < 500) return;
    lastWrite = Date.now();
    lastStage = stage;
    await jobLifecycle.recordProgress(prisma, jobId, fraction, stage);
    await attempt.reportProgress?.({ progress: fraction, stage });
  };

  try {
    const load = async (role: string, ref: DatasetRef, requireLabels: boolean): Promise<ImageDataset> => {
      await progress(0, `downloading ${role}`);
      try {
        return await loadDataset(deps, ref, { role, destDir: path.join(work, role), requireLabels, signal, onStage: (step) => clock.begin(`${role}: ${step}`) });
      } catch (err) {
        // Name the dataset at fault: a job can carry three.
        if (err instanceof GraftError && err.code !== ErrorCode.cancelled) throw new GraftError(err.code, `${role}: ${err.message}`, err.details);
        throw err;
      }
    };
    const target = await load('dataset', spec.dataset, spec.method !== 'domain_adaptation');
    const source = spec.source ? await load('source', spec.source, true) : undefined;
    const validation = spec.validation ? await load('validation', spec.validation, true) : undefined;

    let checkpointBytes = 0;
    const trained = await train({
      method: spec.method,
      backbone: spec.backbone,
      hyperparameters: spec.hyperparameters,
      target,
      source,
      validation,
      signal,
      onProgress: (fraction, stage) => progress(datasetsShare + trainingShare * fraction, stage),
      onEpoch: async (m) => {
        await jobLifecycle.recordEpoch(prisma, jobId, m);
        await pruner?.afterEpoch(m);
      },
      onHyperparameters: async (choices) => {
        pruner?.setEpochs(choices.epochs?.value);
        await jobLifecycle.recordResolvedHyperparameters(prisma, jobId, choices);
      },
      logger: log,
      // a file:// backbone may only come from where file:// datasets may
      allowedFileRoot: path.resolve(deps.config.datasetsDir),
      // a user's backbone URL (model.json + shards, .onnx) is fetched like a dataset: never from internal addresses
      fetch: (url) => safeFetch(url),
    });
    try {
      await jobLifecycle.recordEvaluation(prisma, jobId, trained.evaluation);
      await progress(datasetsShare + trainingShare, 'saving');
      const dir = path.join(work, 'model');
      await trained.save(dir);
      await writeOnnxBeside(dir, trained.model, exportMetadata(trained.metadata), log);
      checkpointBytes = await admitCheckpoint(prisma, jobId, dir);
      await uploadFolder(deps.storage, dir, checkpointPrefix(jobId));
    } finally {
      trained.dispose();
    }
    await clock.end();
    await jobLifecycle.markSucceeded(prisma, jobId, { checkpointKey: checkpointPrefix(jobId), classes: trained.labels, checkpointBytes });
    log.info('job succeeded');
    return 'succeeded';
  } catch (err) {
    await clock.end().catch(() => {}); // how long the stage that failed ran
    if (pruner?.reason) {
      await jobLifecycle.markPruned(prisma, jobId, pruner.reason);
      log.info({ reason: pruner.reason }, 'trial pruned');
      return 'pruned';
    }
    if (shutdown.aborted && !watch.cancelled) {
      // the main thread already handed the job back to the queue: nothing to record, another worker re-runs it
      log.warn('job stopped: the worker is shutting down');
      throw shutdown.reason;
    }
    if (watch.cancelled || (err instanceof GraftError && err.code === ErrorCode.cancelled)) {
      await jobLifecycle.markCancelled(prisma, jobId);
      log.info('job cancelled');
      return 'cancelled';
    }
    if (err instanceof GraftError) {
      // The user's input is at fault: retrying cannot help.
      log.info({ code: err.code, reason: err.message }, 'job failed');
      await jobLifecycle.markFailed(prisma, jobId, { code: err.code, message: err.message });
      return 'failed';
    }
    const message = err instanceof Error ? err.message : String(err);
    log.error({ err }, 'internal error in job');
    if (attempt.failedBefore + 1 < attempt.maxAttempts) {
      await jobLifecycle.markRequeued(prisma, jobId, `retrying after: ${message}`);
    } else {
      await jobLifecycle.markFailed(prisma, jobId, { code: ErrorCode.internal, message: `internal error: ${message}` });
    }
    throw err; // BullMQ retries or fails its copy of the job
  } finally {
    watch.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The served model as model.onnx beside the TF.js checkpoint, exported once here so /predict and
 * GET /jobs/:id/model?format=onnx never export per request. A layer ONNX cannot express keeps the job on
 * TF.js only: logged, not a failure.
 */
async function writeOnnxBeside(dir: string, model: tf.LayersModel, metadata: Record<string, string>, log: Logger): Promise<void> {
  try {
    await writeFile(path.join(dir, 'model.onnx'), exportToOnnx(model, { metadata }));
  } catch (err) {
    if (!(err instanceof UnsupportedLayerError)) throw err;
    log.warn({ reason: err.message }, 'model not exported to ONNX; it is served by TF.js');
  }
}

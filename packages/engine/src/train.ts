// train(): the engine's entry point. Resolves the hyperparameters, splits the labelled data, loads the
// backbone and cuts it at `trainableBlocks`, computes the frozen prefix's activations ONCE (per image and per
// augmentation view), hands the cached sets to the method, evaluates, and assembles the served model.
import * as tf from '@tensorflow/tfjs';
import { GraftError, methodsNeedingSource, type BackboneRef, type EpochMetrics, type Evaluation, type Hyperparameters, type Method } from '@graft/spec';
import type { DatasetItem, ImageDataset } from '@graft/datasets';
import { heavyPasses, initBackend } from './runtime/backend.ts';
import { listBackbones, loadBackbone, type Backbone, type BackboneFetch } from './backbones/index.ts';
import { blockFeaturesBackbone, splitPrefixRows, type PrefixRowLayout } from './backbones/block-features.ts';
import { leasePrefixPool, openPrefixPool, poolThreads, prefixPoolBytes, type PrefixActivations } from './activations/index.ts';
import { dropUndecodable, keepItems, skipUndecodable } from './activations/undecodable-rows.ts';
import { onnxPrefixRunnerSpec } from '@graft/onnx';
import { joinedPlainViews, type ExampleSet } from './methods/example-set.ts';
import type { MethodInput, MethodResult, TransferMethod } from './methods/method.ts';
import type { ResolvedHyperparameters } from './methods/hyperparameters.ts';
import { backboneChoice, dataAwareDefaults, profileData, resolveWithReasons, type HyperparameterChoices } from './methods/data-aware-defaults.ts';
import { seededRandom } from './methods/seeded-random.ts';
import { stratifiedSplit } from './methods/validation-split.ts';
import { fineTune } from './methods/fine-tune.ts';
import { featureExtraction } from './methods/feature-extraction.ts';
import { multiTask } from './methods/multi-task.ts';
import { dann } from './methods/dann.ts';
import { classifierForward, predictProbabilities } from './methods/classifier-forward.ts';
import { throwIfCancelled } from './methods/training-loop.ts';
import { createSuffixRunner } from './suffix/index.ts';
import { evaluate } from './metrics/classification.ts';
import { buildServedModel } from './checkpoint/served-model.ts';
import { saveCheckpoint } from './checkpoint/checkpoint-files.ts';
import { graftVersion, type ModelMetadata } from './checkpoint/metadata.ts';
import { decoderPreprocessing, type Preprocessing } from './preprocess/index.ts';

export interface EngineLogger {
  info(o: object | string, msg?: string): void;
  warn(o: object | string, msg?: string): void;
  debug(o: object | string, msg?: string): void;
}

export interface TrainInput {
  method: Method;
  backbone?: BackboneRef;
  hyperparameters?: Hyperparameters;
  /** labelled data of the task; for domain_adaptation the unlabelled target domain (labels, if any, only evaluate) */
  target: ImageDataset;
  /** labelled source domain (multi_task, domain_adaptation) */
  source?: ImageDataset;
  validation?: ImageDataset;
  /** checked every batch: the run stops with GraftError('cancelled') */
  signal?: AbortSignal;
  onProgress?: (fraction: number, stage: string) => void | Promise<void>;
  onEpoch?: (m: EpochMetrics) => void | Promise<void>;
  /** once the hyperparameters are resolved, before any image is read: each value with why it was chosen */
  onHyperparameters?: (choices: HyperparameterChoices) => void | Promise<void>;
  logger?: EngineLogger;
  /** where a file:// backbone URL may point (the service passes DATASETS_DIR); unset = anywhere (library use) */
  allowedFileRoot?: string;
  /** downloads an http(s):// backbone (model.json + shards, .onnx); the service passes its SSRF-safe fetcher; default global fetch */
  fetch?: BackboneFetch;
}

export interface TrainedModel {
  labels: string[];
  epochs: EpochMetrics[];
  evaluation: Evaluation;
  /** the SERVED model: image [n,s,s,3] preprocessed by decodeImage -> class probabilities [n, labels.length] */
  model: tf.LayersModel;
  metadata: ModelMetadata;
  /** writes model.json + weights.bin + metadata.json */
  save(dir: string): Promise<void>;
  dispose(): void;
}

const methods: Record<Method, TransferMethod> = {
  fine_tune: fineTune,
  feature_extraction: featureExtraction,
  multi_task: multiTask,
  domain_adaptation: dann,
};

/** Augmented views cached per training image for fine_tune (besides the plain one): variety at 3× prefix cost. */
const AUGMENTED_VIEWS = 2;

/** Share of the progress bar per stage (the prefix pass and the epochs dominate). */
const PROGRESS = { backbone: 0.02, activations: 0.35, training: 0.95 };

const silentLogger: EngineLogger = { info() {}, warn() {}, debug() {} };

/** Class index per item against `labels`; a label outside them is the user's mistake, named in the error. */
function labelIndices(items: DatasetItem[], labels: string[], what: string): Int32Array {
  const index = new Map(labels.map((l, i) => [l, i]));
  return Int32Array.from(items, (it) => {
    const i = it.label === null ? undefined : index.get(it.label);
    if (i === undefined) {
      throw new GraftError(
        'bad_labels',
        it.label === null
          ? `The ${what} has unlabelled images (e.g. ${it.file}); this method needs every image in a class folder or in labels.csv.`
          : `The ${what} has the class '${it.label}', which the training data does not have (classes: ${labels.join(', ')}).`,
      );
    }
    return i;
  });
}

function requireLabelled(ds: ImageDataset, what: string, minClasses: number): void {
  if (ds.items.length === 0) throw new GraftError('no_images', `The ${what} has no images.`);
  if (ds.labels.length < minClasses) {
    throw new GraftError('too_few_classes', `The ${what} has ${ds.labels.length} class(es); at least ${minClasses} are needed.`);
  }
}

interface LabelledPart {
  items: DatasetItem[];
  labels: Int32Array;
}

/** Train/validation parts of labelled data: the given validation set, or a stratified seeded hold-out. */
function splitLabelled(ds: ImageDataset, labels: string[], validation: ImageDataset | undefined, hp: ResolvedHyperparameters, rand: () => number, what: string) {
  const y = labelIndices(ds.items, labels, what);
  if (validation) {
    return { train: { items: ds.items, labels: y }, validation: { items: validation.items, labels: labelIndices(validation.items, labels, 'validation set') } };
  }
  const split = stratifiedSplit(y, hp.validationSplit, rand);
  const part = (idx: number[]): LabelledPart => ({ items: idx.map((i) => ds.items[i]), labels: Int32Array.from(idx, (i) => y[i]) });
  return { train: part(split.train), validation: split.validation.length ? part(split.validation) : null };
}

export async function train(input: TrainInput): Promise<TrainedModel> {
  const log = input.logger ?? silentLogger;
  const { method } = input;
  const report = async (fraction: number, stage: string) => input.onProgress?.(Math.min(1, fraction), stage);
  if (!(method in methods)) throw new GraftError('invalid_hyperparameters', `Unknown method '${method}'.`);
  if (methodsNeedingSource.includes(method) && !input.source) {
    throw new GraftError('validation_error', `${method} needs a labelled source dataset ('source') besides the target dataset.`);
  }

  const backend = await initBackend();
  // what the data says about the values the user left out (backbone included); the user's own values always win
  const profile = await profileData(method, input.target, input.source);
  const user = input.hyperparameters ?? {};
  // where the blocks will train decides whether InceptionV3 can be the default (see dataBackbone)
  const chosenBackbone = backboneChoice(method, input.backbone, profile, user, (await heavyPasses()).runner);
  const backboneRef = input.backbone ?? chosenBackbone!.value;
  const registered = chosenBackbone && listBackbones().find((b) => b.id === chosenBackbone.value);
  const fromData = dataAwareDefaults(method, registered, profile, user);
  const wantedSize = user.imageSize ?? fromData.imageSize?.value;
  await report(0, 'loading backbone');
  const loaded = await loadBackbone(backboneRef, { imageSize: wantedSize, allowedFileRoot: input.allowedFileRoot, fetch: input.fetch });
  try {
    const resolved = resolveWithReasons(method, user, fromData, loaded.imageSize);
    const { hp } = resolved;
    const choices: HyperparameterChoices = chosenBackbone ? { ...resolved.choices, backbone: chosenBackbone } : resolved.choices;
    await input.onHyperparameters?.(choices);
    const cut = hp.features === 'block_ends' ? blockFeaturesBackbone(loaded, hp.trainableBlocks) : { ...loaded, layout: null };
    log.info({ method, backbone: cut.info.id, backend, hyperparameters: choices }, 'training starts');
    return await trainOnBackbone(input, cut, cut.layout, hp, choices, log, report);
  } catch (err) {
    releaseWeights(loaded.model);
    throw err;
  }
}

async function trainOnBackbone(
  input: TrainInput,
  backbone: Backbone,
  /** block-end features with trainable blocks: the prefix rows carry the head's side features */
  layout: PrefixRowLayout | null,
  hp: ResolvedHyperparameters,
  choices: HyperparameterChoices,
  log: EngineLogger,
  report: (fraction: number, stage: string) => Promise<void>,
): Promise<TrainedModel> {
  const { method } = input;
  const rand = seededRandom(hp.seed);
  const dann = method === 'domain_adaptation';
  // the served classes: the target's, except for DANN whose target is unlabelled and which learns the source's
  const labelled = dann ? input.source! : input.target;
  requireLabelled(labelled, dann ? 'source dataset' : 'dataset', 2);
  if (input.source && !dann) requireLabelled(input.source, 'source dataset', 2);
  if (dann && input.target.items.length === 0) throw new GraftError('no_images', 'The target dataset has no images.');
  const labels = [...labelled.labels];
  const parts = splitLabelled(labelled, labels, input.validation, hp, rand, dann ? 'source dataset' : 'dataset');

  const { prefix, suffix } = backbone.split(hp.trainableBlocks);
  const preprocessing: Preprocessing = decoderPreprocessing(backbone.info, backbone.imageSize);
  await report(PROGRESS.backbone, 'features');

  // every image the run needs, through the frozen prefix once; progress shared out by image count
  const augmentViews = hp.augment ? AUGMENTED_VIEWS : 0;
  // flipViews: the served task's images get a last view, their mirror (a flop of the decoded pixels)
  const mirror = hp.flipViews;
  const jobs: { items: DatasetItem[]; views: number; mirror?: boolean; dataset?: ImageDataset; what: string }[] = [
    { items: parts.train.items, views: augmentViews, mirror, dataset: labelled, what: dann ? 'source dataset' : 'dataset' },
  ];
  if (parts.validation) jobs.push({ items: parts.validation.items, views: 0, mirror, dataset: input.validation ?? labelled, what: 'validation set' });
  if (method === 'multi_task') jobs.push({ items: input.source!.items, views: 0, dataset: input.source, what: 'source dataset' });
  if (dann) jobs.push({ items: input.target.items, views: 0, dataset: input.target, what: 'target dataset' });
  const viewsOf = (j: (typeof jobs)[number]) => 1 + j.views + (j.mirror ? 1 : 0);
  const totalWork = jobs.reduce((a, j) => a + j.items.length * viewsOf(j), 0);
  let doneWork = 0;
  const caches: PrefixActivations[] = [];
  // one pool of worker threads for every set: they boot while this thread exports the prefix for ONNX Runtime,
  // which runs it natively when it loads and the prefix exports (else TF.js, logged)
  // ONNX Runtime on the CPU, or TF.js kernels (on the GPU with tfjs-node-gpu): see runtime/heavy-passes.ts
  const heavy = await heavyPasses();
  const threads = Math.min(heavy.prefixThreads ?? Infinity, poolThreads(jobs.reduce((a, j) => a + j.items.length, 0)));
  const onnxPrefix = prefix && heavy.runner === 'onnxruntime';
  const open = () => openPrefixPool({ prefix, preprocessing, threads, runner: onnxPrefix ? onnxPrefixRunnerSpec(prefix, { workers: threads, logger: log }) : undefined });
  // a registered backbone's frozen prefix is the same in every run: its pool (threads, sessions, export) may be warm
  // (the feature cut is part of the prefix: block ends and the last layer alone are different graphs)
  const warmKey = typeof input.backbone === 'object' ? null : JSON.stringify([backbone.info.id, hp.trainableBlocks, hp.features, preprocessing, threads]);
  const lease = await leasePrefixPool(warmKey, prefixPoolBytes(prefix, threads), open);
  if (lease.warm) log.info({ threads }, 'prefix pool reused from the previous run');
  const pool = lease.pool;
  let poolOk = false;
  try {
    for (const job of jobs) {
      throwIfCancelled(input.signal);
      const work = job.items.length * viewsOf(job);
      caches.push(
        await pool.compute({
          // an image kept in memory goes from the archive straight to its one decode
          files: job.items.map((it) => it.data ?? it.file),
          names: job.items.map((it) => it.file),
          augmentViews: job.views,
          mirror: job.mirror,
          seed: hp.seed,
          signal: input.signal,
          onProgress: (f: number) => report(PROGRESS.backbone + ((doneWork + f * work) / totalWork) * (PROGRESS.activations - PROGRESS.backbone), 'features'),
        }),
      );
      doneWork += work;
    }
    poolOk = true;
  } finally {
    await lease.release(poolOk);
  }
  // images whose data the one decode refused are skipped, as a dataset's own checks skip what they can see
  const kept = caches.map((c, i) => {
    skipUndecodable(c, jobs[i]!.items, jobs[i]!.dataset, jobs[i]!.what);
    if (c.undecodable.length) log.warn({ set: jobs[i]!.what, skipped: c.undecodable.length, example: c.undecodable[0]!.reason }, 'images skipped: their data cannot be decoded');
    const d = dropUndecodable(c);
    caches[i] = d.activations;
    return d.kept;
  });
  const keepLabels = (y: Int32Array, k: number[] | null) => (k ? Int32Array.from(k, (i) => y[i]!) : y);
  const set = (c: PrefixActivations, y: Int32Array | null, mirrored = false): ExampleSet => {
    const m = mirrored ? { mirror: true } : {};
    if (!layout) return { views: c.views, shape: c.shape, count: c.count, labels: y, ...m };
    const views = c.views.map((v) => splitPrefixRows(v, c.count, layout));
    return { views: views.map((v) => v.activation), shape: layout.activationShape, count: c.count, labels: y, side: { views: views.map((v) => v.side), dim: layout.sideDim }, ...m };
  };
  let next = 0;
  const trainLabels = keepLabels(parts.train.labels, kept[next]!);
  if (kept[next] && new Set(trainLabels).size < 2) throw new GraftError('too_few_classes', `After skipping images that cannot be decoded, the training data has fewer than 2 classes.`);
  const train = set(caches[next++], trainLabels, mirror);
  const validation = parts.validation ? set(caches[next], keepLabels(parts.validation.labels, kept[next++]!), mirror) : null;
  // the trainable suffix runs forward and backward on ONNX Runtime when it can, else on TF.js (logged)
  const suffixRunner = await createSuffixRunner(suffix, log, { onnx: heavy.runner === 'onnxruntime' });
  const methodInput: MethodInput = {
    runner: suffixRunner,
    featureDim: (suffix.outputs[0].shape[1] as number) + (layout?.sideDim ?? 0),
    train,
    validation,
    numClasses: labels.length,
    hp,
    rand,
    signal: input.signal,
    // mirrors the user asked for are used; by default the probe's held-out parts judge them
    mirrors: !mirror ? 'off' : input.hyperparameters?.flipViews === undefined ? 'judge' : 'use',
    onProgress: (f) => report(PROGRESS.activations + f * (PROGRESS.training - PROGRESS.activations), 'training'),
    onEpoch: async (m) => {
      log.info({ ...m }, `epoch ${m.epoch}`);
      await input.onEpoch?.(m);
    },
  };
  if (method === 'multi_task') {
    const src = input.source!;
    methodInput.source = { set: set(caches[next], labelIndices(keepItems(src.items, kept[next++]!), src.labels, 'source dataset')), numClasses: src.labels.length };
  }
  let targetLabels: Int32Array | null = null;
  if (dann) {
    targetLabels = targetEvaluationLabels({ ...input.target, items: keepItems(input.target.items, kept[next]!) }, labels, log);
    methodInput.target = set(caches[next++], targetLabels);
  }

  const evalSet = dann && targetLabels ? methodInput.target! : (validation ?? train);
  const splitName = evalSet === validation ? 'validation' : evalSet === train ? 'train' : 'target';
  let result: MethodResult;
  let evaluation: Evaluation;
  let averaged = false;
  try {
    await report(PROGRESS.activations, 'training');
    throwIfCancelled(input.signal);
    result = await methods[method](methodInput);
    averaged = result.mirrors?.averaged ?? false;
    if (methodInput.mirrors === 'judge') {
      // the data's verdict replaces the 'judged once the features exist' that was recorded at start
      const why = result.mirrors?.why ?? 'too few labelled images for held-out parts to judge mirrored views: none';
      choices = { ...choices, flipViews: { value: averaged, why } };
      await input.onHyperparameters?.(choices);
    }
    await report(PROGRESS.training, 'evaluating');
    const probabilities = await predictProbabilities(evalSet, classifierForward(suffixRunner, result.head), hp.batchSize, averaged);
    // no validation set given: the held-out part has now scored the model fitted without it (the evaluation); a
    // served probe is then refitted at its chosen C on every labelled image (scikit-learn's LogisticRegressionCV
    // refit), and the evaluation says so. A validation set the user gives is never trained on.
    const refit = !!(result.refit && validation && !input.validation);
    if (refit) {
      await report(PROGRESS.training, 'refitting');
      await result.refit!.fit(joinedPlainViews(train, validation!)).catch((err) => {
        result.head.dispose();
        throw err;
      });
    }
    const servedFit = { images: train.count + (refit ? validation!.count : 0), refit, ...(refit ? { C: result.refit!.C } : {}) };
    evaluation = { ...evaluate(probabilities, evalSet.labels!, labels, splitName), servedEpoch: result.servedEpoch, servedFit };
  } finally {
    await suffixRunner.dispose();
  }
  log.info({ split: splitName, accuracy: evaluation.accuracy, macroF1: evaluation.macroF1, servedEpoch: evaluation.servedEpoch, servedFit: evaluation.servedFit }, 'evaluation');

  const model = buildServedModel(backbone.model, suffix, result.head, { mirrors: averaged });
  const metadata: ModelMetadata = {
    labels,
    preprocessing,
    backbone: { id: backbone.info.id, name: backbone.info.name, source: backbone.info.source },
    method,
    // what the run trained with, the data's verdicts included: these hyper-parameters repeat it
    hyperparameters: { ...hp, flipViews: averaged },
    resolvedHyperparameters: choices,
    evaluation,
    createdAt: new Date().toISOString(),
    graftVersion,
  };
  await report(1, 'done');
  let disposed = false;
  return {
    labels,
    epochs: result.epochs,
    evaluation,
    model,
    metadata,
    save: (dir) => saveCheckpoint(dir, model, metadata),
    dispose: () => {
      if (disposed) return;
      disposed = true;
      releaseWeights(model);
    },
  };
}

/**
 * Frees every weight of a model. Container.dispose() is not enough here: the suffix re-applies the backbone's
 * layers (raising their ref counts), so a plain dispose leaves the suffix's weights alive and a second one throws.
 */
function releaseWeights(model: tf.LayersModel): void {
  for (const w of new Set(model.weights)) w.dispose();
}

/** DANN's target labels, when the archive happens to have them and they are all source classes: evaluation only. */
function targetEvaluationLabels(target: ImageDataset, labels: string[], log: EngineLogger): Int32Array | null {
  if (target.items.some((it) => it.label === null)) return null;
  const unknown = target.labels.filter((l) => !labels.includes(l));
  if (unknown.length) {
    log.warn({ unknown }, 'target labels that the source does not have: target accuracy is not reported');
    return null;
  }
  return labelIndices(target.items, labels, 'target dataset');
}

// Few-label accuracy with DEFAULT hyperparameters (a user sends only method + dataset), through train(), scored
// by the served model on held-out images decoded as /predict decodes them (printed table, not a timed test);
// with --service, through the service as a user runs it: the sets as zips, POST /jobs until it ends, every
// held-out image scored by POST /predict (the service started the way `npm start` starts it, API + one worker).
//   nice node --import tsx bench/engine/few-label.ts [--service] [--sizes 10,40,100] [--seeds 1,2,3]
//     [--methods feature_extraction,fine_tune,multi_task] [--digits 60,200] [--skip-fashion] [--skip-digits]
//     [--test-per-class 30] [--train-module /path/to/other/packages/engine/src/train.ts] [--tag before]
//     [--digit-methods feature_extraction,fine_tune,domain_adaptation] [--hp '{"linearProbeFirst":false}' --tag 'no LP'] [--verbose]
//     [--backbone mobilenet_v2] (default: the job's own data-aware choice)
// Fashion-MNIST: N labels/class from the train split, every other image a 64 px RGB JPEG (the rest 28 px grey PNG),
// tested on t10k images made the same way. multi_task uses 100 MNIST digits/class as its labelled source.
// Digits: N MNIST digits/class (labelled source) → N MNIST-M-style digits/class (unlabelled target), tested on
// other shifted digits; source-only (fine_tune on the source, defaults) beside DANN (defaults).
// --train-module runs another checkout's engine (e.g. main's) on the same data, for a before/after table.
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import yazl from 'yazl';
import type { Hyperparameters, JobSpec, JobView, MetricsView, Method } from '@graft/spec';
import type { ImageDataset } from '@graft/datasets';
import type { train as trainFn, TrainedModel } from '../../packages/engine/src/train.ts';
import { decodeImage } from '../../packages/engine/src/preprocess/index.ts';
import { fashionLabels, mnistMStyle, readFashionMnist, readMnistDigits, takePerClass, writeMixedDataset, type RawImages } from './bench-data.ts';
import { heldOutAccuracy, startBenchService, until, type BenchService, type LabelledImage } from '../service/bench-service.ts';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10,40,100' },
    seeds: { type: 'string', default: '1' },
    methods: { type: 'string', default: 'feature_extraction,fine_tune,multi_task' },
    digits: { type: 'string', default: '60,200' },
    'digit-methods': { type: 'string', default: 'fine_tune,domain_adaptation' },
    'skip-fashion': { type: 'boolean' },
    'skip-digits': { type: 'boolean' },
    'test-per-class': { type: 'string', default: '30' },
    'train-module': { type: 'string' },
    tag: { type: 'string', default: 'this branch' },
    service: { type: 'boolean' },
    verbose: { type: 'boolean' },
    hp: { type: 'string', default: '{}' },
    backbone: { type: 'string' },
  },
});
const { train } = (await import(args['train-module'] ?? '../../packages/engine/src/train.ts')) as { train: typeof trainFn };
// --hp '{"linearProbeFirst":false}': an ablation of one choice (tag such rows with --tag); defaults otherwise
const extraHp = JSON.parse(args.hp!) as Hyperparameters;
const seeds = args.seeds!.split(',').map(Number);
const work = await mkdtemp(path.join(tmpdir(), 'graft-bench-few-'));
const lines: string[] = [];
const print = (cells: (string | number)[]) => {
  const line = `| ${cells.join(' | ')} |`;
  lines.push(line);
  console.log(line);
};

/** Accuracy of the served model on `test`, each image decoded with the checkpoint's own preprocessing. */
async function servedAccuracy(m: TrainedModel, test: ImageDataset): Promise<number> {
  let correct = 0;
  for (let i = 0; i < test.items.length; i += 50) {
    const batch = test.items.slice(i, i + 50);
    const s = m.metadata.preprocessing.imageSize;
    const pixels = await Promise.all(batch.map((it) => decodeImage(it.file, m.metadata.preprocessing)));
    const flat = new Float32Array(batch.length * s * s * 3);
    pixels.forEach((p, j) => flat.set(p, j * s * s * 3));
    const predicted = tf.tidy(() => (m.model.predict(tf.tensor4d(flat, [batch.length, s, s, 3])) as tf.Tensor).argMax(1).dataSync());
    batch.forEach((it, j) => (correct += m.labels[predicted[j]] === it.label ? 1 : 0));
  }
  return correct / test.items.length;
}

const stamp = (level: string) => (o: object | string, msg?: string) => console.error(`  [${level} ${(performance.now() / 1000).toFixed(1)} s] ${msg ?? ''} ${JSON.stringify(o)}`.slice(0, 400));
const verbose = { info: stamp('info'), warn: stamp('warn'), debug: () => {} };

const meanSd = (xs: number[], digits = 3) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return `${mean.toFixed(digits)}${xs.length > 1 ? ` ± ${sd.toFixed(digits)}` : ''}`;
};

interface RowData {
  target: ImageDataset;
  source?: ImageDataset;
  test: ImageDataset;
}
interface JobResult {
  accuracy: number;
  seconds: number;
  /** what the defaults chose, for the table */
  chosen: string;
}
type RunJob = (method: Method, data: RowData, seed: number) => Promise<JobResult>;

/** Through train() in this process, scored by the served model. */
const throughEngine: RunJob = async (method, { target, source, test }, seed) => {
  const t0 = performance.now();
  const m = await train({ method, backbone: args.backbone, target, source, hyperparameters: { ...extraHp, seed }, logger: args.verbose ? verbose : undefined });
  const seconds = (performance.now() - t0) / 1000;
  try {
    const hp = m.metadata.hyperparameters;
    return { accuracy: await servedAccuracy(m, test), seconds, chosen: `${m.metadata.backbone.id}, ${hp.imageSize}px, ${hp.trainableBlocks} blocks, ${m.epochs.length}/${hp.epochs} ep${hp.flipViews ? ', mirrors' : ''}` };
  } finally {
    m.dispose();
  }
};

/** A dataset as the zip a user uploads: ImageFolder when labelled, a flat folder of images when not (a DANN target). */
async function zipOf(set: ImageDataset, file: string): Promise<string> {
  const zip = new yazl.ZipFile();
  for (const it of set.items) zip.addBuffer(await readFile(it.file), it.label ? `${it.label}/${path.basename(it.file)}` : path.basename(it.file));
  zip.end();
  await new Promise<void>((resolve, reject) => zip.outputStream.pipe(createWriteStream(file)).on('finish', resolve).on('error', reject));
  return file;
}

/** Through the service: POST /jobs with the sets as file:// zips, wait for the job, score it through POST /predict. */
function throughService(svc: BenchService): RunJob {
  const zips = new Map<ImageDataset, Promise<string>>();
  const url = (set: ImageDataset) => {
    if (!zips.has(set)) zips.set(set, zipOf(set, path.join(svc.datasetsDir, `${path.basename(set.root)}.zip`)));
    return zips.get(set)!.then((f) => ({ url: `file://${f}` }));
  };
  const tests = new Map<ImageDataset, Promise<LabelledImage[]>>();
  const images = (set: ImageDataset) => {
    if (!tests.has(set)) tests.set(set, Promise.all(set.items.map(async (it) => ({ base64: (await readFile(it.file)).toString('base64'), label: it.label! }))));
    return tests.get(set)!;
  };
  return async (method, { target, source, test }, seed) => {
    const spec: JobSpec = { method, ...(args.backbone ? { backbone: args.backbone } : {}), dataset: await url(target), ...(source ? { source: await url(source) } : {}), hyperparameters: { ...extraHp, seed } };
    const t0 = performance.now();
    const submitted = await svc.http<JobView>('POST', '/jobs', spec);
    if (submitted.status !== 202) throw new Error(`POST /jobs: ${submitted.status} ${JSON.stringify(submitted.body)}`);
    const job = await until<JobView>(svc, `/jobs/${submitted.body.id}`, (j) => !['queued', 'running'].includes(j.status));
    const seconds = (performance.now() - t0) / 1000;
    if (job.status !== 'succeeded') throw new Error(`${method} job ${job.status}: ${JSON.stringify(job.error)}`);
    const { body: metrics } = await svc.http<MetricsView>('GET', `/jobs/${job.id}/metrics`);
    const hp = (k: string) => job.resolvedHyperparameters?.[k]?.value;
    const chosen = `${hp('backbone') ?? args.backbone}, ${hp('imageSize')}px, ${hp('trainableBlocks')} blocks, ${metrics.epochs.length}/${hp('epochs')} ep${hp('flipViews') ? ', mirrors' : ''}`;
    if (args.verbose && job.resolvedHyperparameters?.flipViews) console.error(`  flipViews: ${JSON.stringify(job.resolvedHyperparameters.flipViews)}`);
    return { accuracy: await heldOutAccuracy(svc, job.id, await images(test)), seconds, chosen };
  };
}

/** One row: the method with defaults (only the seed set) on each seed's data; accuracy on `test`, wall time per job. */
async function row(run: RunJob, label: string, method: Method, data: (seed: number) => Promise<RowData>) {
  const acc: number[] = [];
  const secs: number[] = [];
  let chosen = '';
  for (const seed of seeds) {
    const r = await run(method, await data(seed), seed);
    acc.push(r.accuracy);
    secs.push(r.seconds);
    chosen = r.chosen;
    console.error(`  ${label} ${method} seed ${seed}: ${r.accuracy.toFixed(3)} in ${r.seconds.toFixed(0)} s (${chosen})`);
  }
  print([args.tag!, args.service ? 'service' : 'train()', label, method, meanSd(acc), `${seeds.length}`, meanSd(secs, 0), chosen]);
}

const digitNames = Array.from({ length: 10 }, (_, d) => `digit_${d}`);
const cache = new Map<string, Promise<ImageDataset>>();
/** Datasets written once per (name, seed) and shared between rows. */
const written = (name: string, raw: () => RawImages | Promise<RawImages>, names: string[], withLabels = true) => {
  if (!cache.has(name)) cache.set(name, Promise.resolve(raw()).then((r) => writeMixedDataset(r, names, path.join(work, name), 64, withLabels)));
  return cache.get(name)!;
};

print(['engine', 'through', 'data', 'method', 'accuracy (mean ± sd)', 'seeds', 'wall s / job', 'chosen (last seed)']);
print(['---', '---', '---', '---', '---', '---', '---', '---']);
if (args.service && args['train-module']) throw new Error('--service runs this checkout; --train-module applies to train() only');
const svc = args.service ? await startBenchService(path.join(import.meta.dirname, '../..'), work) : undefined;
const run = svc ? throughService(svc) : throughEngine;
try {
  await svc?.ready();
  const digits = readMnistDigits();
  if (!args['skip-fashion']) {
    const fashionTrain = await readFashionMnist('train');
    const fashionTest = await readFashionMnist('t10k');
    const test = await written('fashion-test', () => takePerClass(fashionTest, Number(args['test-per-class']), 99), fashionLabels);
    for (const perClass of args.sizes!.split(',').map(Number)) {
      for (const method of args.methods!.split(',') as Method[]) {
        await row(run, `Fashion ${perClass}/class`, method, async (seed) => ({
          target: await written(`fashion-${perClass}-${seed}`, () => takePerClass(fashionTrain, perClass, seed), fashionLabels),
          source: method === 'multi_task' ? await written(`digits-src-${seed}`, () => takePerClass(digits, 100, 50 + seed), digitNames) : undefined,
          test,
        }));
      }
    }
  }
  if (!args['skip-digits']) {
    // source, target and test digits are disjoint MNIST images; target and test are shifted with other textures
    const test = await written('shifted-test', () => mnistMStyle(takePerClass(digits, Number(args['test-per-class']), 7, 400), 8), digitNames);
    for (const perClass of args.digits!.split(',').map(Number)) {
      const data = async (seed: number) => ({
        source: await written(`mnist-${perClass}-${seed}`, () => takePerClass(digits, perClass, seed), digitNames),
        target: await written(`shifted-${perClass}-${seed}`, () => mnistMStyle(takePerClass(digits, perClass, seed, 200), seed + 10), digitNames, false),
        test,
      });
      const label = `digits → shifted ${perClass}/class`;
      const methods = args['digit-methods']!.split(',');
      // feature_extraction on the labelled digits, scored on other (unshifted) MNIST digits: whether its probe's
      // cross-validation keeps mirrored views on data they should not help (the table says ', mirrors' if so)
      if (methods.includes('feature_extraction')) {
        const plainTest = await written('digits-test', () => takePerClass(digits, Number(args['test-per-class']), 7, 400), digitNames);
        await row(run, `digits ${perClass}/class`, 'feature_extraction', async (seed) => ({ target: (await data(seed)).source, test: plainTest }));
      }
      // source-only: fine_tune on the labelled source, scored on the shifted test digits
      if (methods.includes('fine_tune')) await row(run, label, 'fine_tune', async (seed) => ({ target: (await data(seed)).source, test }));
      if (methods.includes('domain_adaptation')) await row(run, label, 'domain_adaptation', data);
    }
  }
} finally {
  await svc?.stop();
  await rm(work, { recursive: true, force: true });
}
console.log(`\n${lines.join('\n')}`);

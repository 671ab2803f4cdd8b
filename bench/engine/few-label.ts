// Few-label accuracy with DEFAULT hyperparameters (a user sends only method + dataset), through train(), scored
// by the served model on held-out images decoded as /predict decodes them (printed table, not a timed test).
//   nice node --import tsx bench/engine/few-label.ts [--sizes 10,40,100] [--seeds 1,2,3]
//     [--methods feature_extraction,fine_tune,multi_task] [--digits 60,200] [--skip-fashion] [--skip-digits]
//     [--test-per-class 30] [--train-module /path/to/other/packages/engine/src/train.ts] [--tag before]
//     [--digit-methods fine_tune,domain_adaptation] [--hp '{"linearProbeFirst":false}' --tag 'no LP'] [--verbose]
//     [--backbone mobilenet_v2] (default: the job's own data-aware choice)
// Fashion-MNIST: N labels/class from the train split, every other image a 64 px RGB JPEG (the rest 28 px grey PNG),
// tested on t10k images made the same way. multi_task uses 100 MNIST digits/class as its labelled source.
// Digits: N MNIST digits/class (labelled source) → N MNIST-M-style digits/class (unlabelled target), tested on
// other shifted digits; source-only (fine_tune on the source, defaults) beside DANN (defaults).
// --train-module runs another checkout's engine (e.g. main's) on the same data, for a before/after table.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import type { Hyperparameters, Method } from '@graft/spec';
import type { ImageDataset } from '@graft/datasets';
import type { train as trainFn, TrainedModel } from '../../packages/engine/src/train.ts';
import { decodeImage } from '../../packages/engine/src/preprocess/index.ts';
import { fashionLabels, mnistMStyle, readFashionMnist, readMnistDigits, takePerClass, writeMixedDataset, type RawImages } from './bench-data.ts';

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

/** One row: the method with defaults (only the seed set) on each seed's data; accuracy on `test`, wall time per job. */
async function row(label: string, method: Method, data: (seed: number) => Promise<{ target: ImageDataset; source?: ImageDataset; test: ImageDataset }>) {
  const acc: number[] = [];
  const secs: number[] = [];
  let chosen = '';
  for (const seed of seeds) {
    const { target, source, test } = await data(seed);
    const t0 = performance.now();
    const m = await train({ method, backbone: args.backbone, target, source, hyperparameters: { ...extraHp, seed }, logger: args.verbose ? verbose : undefined });
    secs.push((performance.now() - t0) / 1000);
    acc.push(await servedAccuracy(m, test));
    const hp = m.metadata.hyperparameters;
    chosen = `${m.metadata.backbone.id}, ${hp.imageSize}px, ${hp.trainableBlocks} blocks, ${m.epochs.length}/${hp.epochs} ep`;
    console.error(`  ${label} ${method} seed ${seed}: ${acc.at(-1)!.toFixed(3)} in ${secs.at(-1)!.toFixed(0)} s (${chosen})`);
    m.dispose();
  }
  print([args.tag!, label, method, meanSd(acc), `${seeds.length}`, meanSd(secs, 0), chosen]);
}

const digitNames = Array.from({ length: 10 }, (_, d) => `digit_${d}`);
const cache = new Map<string, Promise<ImageDataset>>();
/** Datasets written once per (name, seed) and shared between rows. */
const written = (name: string, raw: () => RawImages | Promise<RawImages>, names: string[], withLabels = true) => {
  if (!cache.has(name)) cache.set(name, Promise.resolve(raw()).then((r) => writeMixedDataset(r, names, path.join(work, name), 64, withLabels)));
  return cache.get(name)!;
};

print(['engine', 'data', 'method', 'accuracy (mean ± sd)', 'seeds', 'wall s / job', 'chosen (last seed)']);
print(['---', '---', '---', '---', '---', '---', '---']);
try {
  const digits = readMnistDigits();
  if (!args['skip-fashion']) {
    const fashionTrain = await readFashionMnist('train');
    const fashionTest = await readFashionMnist('t10k');
    const test = await written('fashion-test', () => takePerClass(fashionTest, Number(args['test-per-class']), 99), fashionLabels);
    for (const perClass of args.sizes!.split(',').map(Number)) {
      for (const method of args.methods!.split(',') as Method[]) {
        await row(`Fashion ${perClass}/class`, method, async (seed) => ({
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
      // source-only: fine_tune on the labelled source, scored on the shifted test digits
      if (methods.includes('fine_tune')) await row(label, 'fine_tune', async (seed) => ({ target: (await data(seed)).source, test }));
      if (methods.includes('domain_adaptation')) await row(label, 'domain_adaptation', data);
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
console.log(`\n${lines.join('\n')}`);

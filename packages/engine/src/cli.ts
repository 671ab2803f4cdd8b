// `graft` CLI: the engine without the service. Trains on local archives and writes a checkpoint folder.
//   npm run graft -- train --method fine_tune --data ./archive.zip [--source ./src.zip] [--validation ./val.zip]
//                      [--backbone mobilenet_v2] [--epochs 10] [--batch-size 32] [--learning-rate 1e-3]
//                      [--image-size 128] [--trainable-blocks 2|all] [--seed 1] [--classifier logistic|svm]
//                      [--lambda 1] [--no-augment] --out ./model
//   npm run graft -- backbones
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { GraftError, type Hyperparameters, type Method } from '@graft/spec';
import { prepareDataset, type ImageDataset } from '@graft/datasets';
import { listBackbones } from './backbones/index.ts';
import { train } from './train.ts';

const usage = `usage:
  graft train --method fine_tune|feature_extraction|multi_task|domain_adaptation --data <archive> --out <dir>
              [--source <archive>] [--validation <archive>] [--backbone <id>] [--epochs N] [--batch-size N]
              [--learning-rate X] [--image-size N] [--trainable-blocks N|all] [--validation-split X]
              [--patience N] [--seed N] [--classifier logistic|svm] [--lambda X] [--no-augment]
  graft backbones`;

const methods: Method[] = ['fine_tune', 'feature_extraction', 'multi_task', 'domain_adaptation'];

function num(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new GraftError('validation_error', `--${name} must be a number, got '${v}'`);
  return n;
}

async function trainCommand(args: string[]): Promise<void> {
  const { values: o } = parseArgs({
    args,
    options: {
      method: { type: 'string' },
      data: { type: 'string' },
      source: { type: 'string' },
      validation: { type: 'string' },
      out: { type: 'string' },
      backbone: { type: 'string' },
      epochs: { type: 'string' },
      'batch-size': { type: 'string' },
      'learning-rate': { type: 'string' },
      'image-size': { type: 'string' },
      'trainable-blocks': { type: 'string' },
      'validation-split': { type: 'string' },
      patience: { type: 'string' },
      seed: { type: 'string' },
      classifier: { type: 'string' },
      lambda: { type: 'string' },
      'no-augment': { type: 'boolean' },
    },
  });
  const method = o.method as Method;
  if (!methods.includes(method) || !o.data || !o.out) throw new GraftError('validation_error', `--method, --data and --out are required\n${usage}`);
  const tb = o['trainable-blocks'];
  const hp: Hyperparameters = {
    epochs: num(o.epochs, 'epochs'),
    batchSize: num(o['batch-size'], 'batch-size'),
    learningRate: num(o['learning-rate'], 'learning-rate'),
    imageSize: num(o['image-size'], 'image-size'),
    trainableBlocks: tb === 'all' ? 'all' : num(tb, 'trainable-blocks'),
    validationSplit: num(o['validation-split'], 'validation-split'),
    earlyStoppingPatience: num(o.patience, 'patience'),
    seed: num(o.seed, 'seed'),
    classifier: o.classifier as Hyperparameters['classifier'],
    lambda: num(o.lambda, 'lambda'),
    augment: o['no-augment'] ? false : undefined,
  };
  for (const k of Object.keys(hp) as (keyof Hyperparameters)[]) if (hp[k] === undefined) delete hp[k];

  const work = await mkdtemp(path.join(tmpdir(), 'graft-cli-'));
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  try {
    const open = async (archive: string, name: string, requireLabels: boolean): Promise<ImageDataset> => {
      // the images go from the archive to their one decode at the training size, in memory up to 512 MiB
      const decodeInEngine = { maxInMemoryBytes: 512 * 1024 * 1024 };
      const ds = await prepareDataset({ archivePath: path.resolve(archive) }, { destDir: path.join(work, name), requireLabels, decodeInEngine, signal: controller.signal });
      console.error(`${name}: ${ds.items.length} images, ${ds.labels.length} classes${ds.skipped.length ? `, ${ds.skipped.length} entries skipped` : ''}`);
      return ds;
    };
    const target = await open(o.data, 'data', method !== 'domain_adaptation');
    const source = o.source ? await open(o.source, 'source', true) : undefined;
    const validation = o.validation ? await open(o.validation, 'validation', true) : undefined;
    let lastStage = '';
    const model = await train({
      method,
      backbone: o.backbone,
      hyperparameters: hp,
      target,
      source,
      validation,
      signal: controller.signal,
      onProgress: (f, stage) => {
        if (stage !== lastStage) console.error(`[${(f * 100).toFixed(0).padStart(3)}%] ${stage}`);
        lastStage = stage;
      },
      onEpoch: (m) => {
        const fmt = (v: number | null) => (v === null ? '-' : v.toFixed(4));
        const extra = Object.entries(m.extra ?? {}).map(([k, v]) => `${k} ${fmt(v)}`).join('  ');
        console.error(`epoch ${m.epoch}: loss ${fmt(m.loss)}  acc ${fmt(m.accuracy)}  val_loss ${fmt(m.valLoss)}  val_acc ${fmt(m.valAccuracy)}  ${extra}`);
      },
    });
    await model.save(o.out);
    const e = model.evaluation;
    console.error(`saved to ${path.resolve(o.out)}: ${e.split} accuracy ${e.accuracy.toFixed(4)}, macro-F1 ${e.macroF1.toFixed(4)}`);
    // one JSON line last on stdout, for scripts (the engine's logs share stdout)
    console.log(JSON.stringify({ out: path.resolve(o.out), split: e.split, accuracy: e.accuracy, macroF1: e.macroF1, topK: e.topK, labels: model.labels }));
    model.dispose();
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'train') return trainCommand(rest);
  if (command === 'backbones') {
    for (const b of listBackbones()) console.log(`${b.id}\t${b.featureDim}-d\tnative ${b.nativeImageSize}px\t${b.blocks} blocks\t${b.name}`);
    return;
  }
  console.error(usage);
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof GraftError ? `error (${err.code}): ${err.message}` : err);
  process.exitCode = 1;
});

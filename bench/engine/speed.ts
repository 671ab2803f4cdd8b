// Whole-job wall time against PyTorch on the same machine in the same run (printed table, not a timed test).
//   node --import tsx bench/engine/speed.ts [--images 2000] [--test-images 1000] [--image-size 96] [--epochs 5]
//     [--jobs fine_tune,feature_extraction]
// Jobs: fine_tune (last 2 blocks + head, 5 epochs, batch 32, no augmentation in either) and feature_extraction
// (logistic regression), MobileNetV2, 2,000 Fashion-MNIST training images + 1,000 test images, PNG files in,
// everything from decoding to the final evaluation timed. PyTorch runs bench/engine/speed_pytorch.py with
// /usr/bin/python3, plain and with glibc hugetlb malloc (it loses 30–50 % to page faults without it here).
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { train } from '../../packages/engine/src/train.ts';
import { fashionLabels, readFashionMnist, takePerClass, writeDataset } from './bench-data.ts';

const { values: args } = parseArgs({
  options: {
    images: { type: 'string', default: '2000' },
    'test-images': { type: 'string', default: '1000' },
    'image-size': { type: 'string', default: '96' },
    epochs: { type: 'string', default: '5' },
    jobs: { type: 'string', default: 'fine_tune,feature_extraction' },
  },
});
const imageSize = Number(args['image-size']);
const epochs = Number(args.epochs);
const work = await mkdtemp(path.join(tmpdir(), 'graft-bench-speed-'));
const run = promisify(execFile);
const jobs = args.jobs!.split(',') as ('fine_tune' | 'feature_extraction')[];

async function pytorch(trainDir: string, testDir: string, hugetlb: boolean): Promise<Record<string, { seconds: number; accuracy: number }>> {
  const env = { ...process.env, ...(hugetlb ? { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' } : {}) };
  const script = path.join(import.meta.dirname, 'speed_pytorch.py');
  const { stdout } = await run('/usr/bin/python3', [script, '--train', trainDir, '--test', testDir, '--size', String(imageSize), '--epochs', String(epochs), '--batch', '32', '--jobs', jobs.join(',')], { env, maxBuffer: 1 << 20 });
  return Object.fromEntries(stdout.trim().split('\n').map((l) => JSON.parse(l)).map((j) => [j.job, j]));
}

try {
  const raw = await readFashionMnist('train');
  const perClass = Number(args.images) / 10;
  const trainSet = await writeDataset(takePerClass(raw, perClass, 1), fashionLabels, path.join(work, 'train'));
  const testSet = await writeDataset(takePerClass(await readFashionMnist('t10k'), Number(args['test-images']) / 10, 2), fashionLabels, path.join(work, 'test'));

  const ours: Record<string, { seconds: number; accuracy: number }> = {};
  for (const method of jobs) {
    const t0 = performance.now();
    // stage times from the engine's own progress: prefix pass, each epoch (training + validation), evaluation
    let trainingFrom = 0;
    const epochEnds: number[] = [];
    const m = await train({
      method,
      target: trainSet,
      validation: testSet,
      onProgress: (_f, stage) => {
        if (stage === 'training' && !trainingFrom) trainingFrom = performance.now();
      },
      onEpoch: () => void epochEnds.push(performance.now()),
      hyperparameters:
        method === 'fine_tune'
          ? { imageSize, epochs, batchSize: 32, trainableBlocks: 2, augment: false, earlyStoppingPatience: 0, seed: 1 }
          : { imageSize, batchSize: 32, seed: 1 },
    });
    ours[method] = { seconds: (performance.now() - t0) / 1000, accuracy: m.evaluation.accuracy };
    m.dispose();
    const epochTimes = epochEnds.map((t, k) => (t - (k ? epochEnds[k - 1] : trainingFrom)) / 1000);
    console.error(
      `ours ${method}: ${ours[method].seconds.toFixed(1)} s (before training ${((trainingFrom - t0) / 1000).toFixed(1)} s, epochs ${epochTimes.map((e) => e.toFixed(2)).join(' ')} s), accuracy ${ours[method].accuracy.toFixed(4)}`,
    );
  }
  const torchPlain = await pytorch(trainSet.root, testSet.root, false);
  console.error('pytorch', torchPlain);
  const torchHuge = await pytorch(trainSet.root, testSet.root, true);
  console.error('pytorch hugetlb', torchHuge);

  console.log(`\n${trainSet.items.length} train + ${testSet.items.length} test images (Fashion-MNIST PNGs), ${imageSize}px, MobileNetV2, batch 32`);
  console.log('| job | graft (s) | PyTorch (s) | PyTorch hugetlb (s) | speed-up vs PyTorch | vs hugetlb | graft acc | PyTorch acc (random weights) |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const job of jobs) {
    const o = ours[job];
    const p = torchPlain[job];
    const h = torchHuge[job];
    console.log(`| ${job}${job === 'fine_tune' ? ` (${epochs} epochs, 2 blocks)` : ''} | ${o.seconds.toFixed(1)} | ${p.seconds.toFixed(1)} | ${h.seconds.toFixed(1)} | ${(p.seconds / o.seconds).toFixed(2)}× | ${(h.seconds / o.seconds).toFixed(2)}× | ${o.accuracy.toFixed(4)} | ${p.accuracy.toFixed(4)} |`);
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

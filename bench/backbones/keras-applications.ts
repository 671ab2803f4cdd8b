// ResNet-50 and VGG-16 (random weights: speed does not depend on the values) at 224 px against
// PyTorch/torchvision on the same machine in the same run (bench/backbones/pytorch_keras_applications.py).
//   node --import tsx bench/backbones/keras-applications.ts [--images 16] [--threads 2] [--models resnet50,vgg16]
// (about 9 minutes with --images 32 on the shared 2-core machine, load average ~20)
// Inference: batch 16 of 224 px images, features (global average pool of the last stage), ours on ONNX Runtime
// (the engine's path for every frozen forward pass) and on TF.js wasm, PyTorch eval + no_grad.
// fine_tune: one epoch of train() through the registered backbone (weights from GRAFT_*_URL as an operator
// configures them) on --images JPEGs, trainableBlocks 2, batch 32, no augmentation: the prefix pass (decode +
// frozen forward, cached once per job) and the epoch (suffix forward + backward + Adam) timed apart. PyTorch
// runs the usual loop: the whole network forward every epoch, backward through the last 2 blocks + head, on
// tensors already in memory (no decoding).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { createOnnxRunner, exportToOnnx } from '@graft/onnx';
import { prepareDataset } from '@graft/datasets';
import { loadBackbone } from '../../packages/engine/src/backbones/index.ts';
import { resnet50, vgg16 } from '../../packages/engine/src/backbones/keras-applications.ts';
import { folderSaveHandler } from '../../packages/engine/src/checkpoint/index.ts';
import { initBackend } from '../../packages/engine/src/runtime/backend.ts';
import { train } from '../../packages/engine/src/train.ts';
import { defaultPatterns, makeImageFolderZip } from '../../test/support/images.ts';

const { values: args } = parseArgs({
  options: {
    images: { type: 'string', default: '16' },
    threads: { type: 'string', default: '2' },
    models: { type: 'string', default: 'resnet50,vgg16' },
  },
});
const SIZE = 224;
const BATCH = 16;
const threads = Number(args.threads);
const models = args.models!.split(',') as ('resnet50' | 'vgg16')[];
const architectures = { resnet50: { build: resnet50, env: 'GRAFT_RESNET50_URL' }, vgg16: { build: vgg16, env: 'GRAFT_VGG16_URL' } };
const work = await mkdtemp(path.join(tmpdir(), 'graft-bench-keras-apps-'));

/** Images per second: best of `repeats` timed runs after one warm-up (the machine is shared: best is the least disturbed). */
async function rate(images: number, fn: () => Promise<void>, repeats = 3): Promise<number> {
  await fn();
  let best = Infinity;
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t);
  }
  return (images / best) * 1000;
}

try {
  console.log(`backend ${await initBackend()}, ${threads} threads, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} (a shared machine: compare within a row)\n`);
  const zip = path.join(work, 'data.zip');
  await writeFile(zip, await makeImageFolderZip({ patterns: defaultPatterns.slice(0, 2), perClass: Math.ceil(Number(args.images) / 2), size: 256, format: 'jpeg' }));
  const target = await prepareDataset({ archivePath: zip }, { destDir: path.join(work, 'data'), requireLabels: true });

  const ours: Record<string, Record<string, number>> = {};
  for (const id of models) {
    const a = architectures[id];
    // the operator's weights file: random weights, saved as a converted Keras model would be
    const { model } = a.build(32, 1);
    await model.save(folderSaveHandler(path.join(work, id)));
    model.dispose();
    process.env[a.env] = pathToFileURL(path.join(work, id, 'model.json')).href;

    const b = await loadBackbone(id, { imageSize: SIZE });
    const x = tf.randomUniform([BATCH, SIZE, SIZE, 3], -120, 150);
    const pixels = x.dataSync() as Float32Array;
    const runner = await createOnnxRunner(exportToOnnx(b.model), { threads });
    const onnx = await rate(BATCH, async () => void (await runner!.run(pixels, BATCH)));
    await runner!.dispose();
    const tfjs = await rate(BATCH, async () => {
      const y = b.model.predict(x) as tf.Tensor;
      await y.data();
      y.dispose();
    }, 1);
    x.dispose();
    b.dispose();

    let trainingFrom = 0;
    let start = 0;
    let suffixPath = '';
    const epochEnds: number[] = [];
    const t0 = performance.now();
    const m = await train({
      method: 'fine_tune',
      backbone: id,
      target,
      hyperparameters: { imageSize: SIZE, epochs: 1, batchSize: 32, augment: false, validationSplit: 0, trainableBlocks: 2, seed: 1 },
      onProgress: (_f, stage) => {
        if (stage === 'features' && !start) start = performance.now();
        if (stage === 'training' && !trainingFrom) trainingFrom = performance.now();
      },
      onEpoch: () => void epochEnds.push(performance.now()),
      logger: { info: (o: object | string, msg?: string) => void (typeof o === 'object' && /trainable suffix runs/.test(msg ?? '') && (suffixPath = String((o as { path?: string }).path))), warn() {}, debug() {} },
    });
    const total = (performance.now() - t0) / 1000;
    m.dispose();
    ours[id] = { onnx, tfjs, prefix: (trainingFrom - start) / 1000, epoch: (epochEnds[0] - trainingFrom) / 1000, total };
    console.log(`# ours ${id}: ${JSON.stringify(ours[id])} (suffix on ${suffixPath})`);
  }

  const script = path.join(import.meta.dirname, 'pytorch_keras_applications.py');
  const { stdout } = await promisify(execFile)('/usr/bin/python3', [script, '--images', String(target.items.length), '--threads', String(threads), '--models', models.join(',')], { maxBuffer: 1 << 20 });
  const torch = JSON.parse(stdout.trim().split('\n').pop()!) as { torch: string; results: Record<string, { inference: number; epoch: number }> };

  console.log(`\n| 224 px, ${threads} threads | inference img/s: ours ONNX Runtime | ours TF.js wasm | PyTorch ${torch.torch} | ours ORT / PyTorch |`);
  console.log('|---|---|---|---|---|');
  for (const id of models) {
    const o = ours[id];
    const t = torch.results[id];
    console.log(`| ${id} | ${o.onnx.toFixed(1)} | ${o.tfjs.toFixed(1)} | ${t.inference.toFixed(1)} | ${(o.onnx / t.inference).toFixed(2)}× |`);
  }
  console.log(`\n| fine_tune, ${target.items.length} images, 1 epoch, last 2 blocks | ours: prefix pass (decode + frozen forward, once per job; + suffix setup) s | ours: epoch s | ours: whole train() s | PyTorch epoch s | PyTorch epoch / ours (prefix + epoch) |`);
  console.log('|---|---|---|---|---|---|');
  for (const id of models) {
    const o = ours[id];
    const t = torch.results[id];
    console.log(`| ${id} | ${o.prefix.toFixed(1)} | ${o.epoch.toFixed(1)} | ${o.total.toFixed(1)} | ${t.epoch.toFixed(1)} | ${(t.epoch / (o.prefix + o.epoch)).toFixed(2)}× |`);
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

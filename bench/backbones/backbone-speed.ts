// Backbone-side figures: load time per backbone, MobileNetV2 forward img/s at 96 and 224 px on one
// thread, the frozen-prefix cache (decode + forward) with 1 vs 2 worker threads, and suffix training
// img/s on wasm with our gradient kernels. Prints tables; run alone on an idle machine:
//   node --import tsx bench/backbones/backbone-speed.ts [--images 256] [--quick]
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../packages/engine/src/runtime/backend.ts';
import { listBackbones, loadBackbone } from '../../packages/engine/src/backbones/index.ts';
import { computePrefixActivations } from '../../packages/engine/src/activations/index.ts';
import { defaultPatterns, writeImageFolder } from '../../test/support/images.ts';

const args = process.argv.slice(2);
const nImages = Number(args[args.indexOf('--images') + 1]) || 256;
const quick = args.includes('--quick');
const batch = 32;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timeIt(fn: () => Promise<void> | void, repeats: number): Promise<number> {
  await fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

const backend = await initBackend();
console.log(`backend ${backend}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} (figures are only meaningful on an idle machine)\n`);

console.log('| backbone | image size | first load (ms) | features |');
console.log('|---|---|---|---|');
for (const b of listBackbones()) {
  const size = b.id === 'inception_v3' ? 299 : 224;
  const t = performance.now();
  const bb = await loadBackbone(b.id, { imageSize: size });
  console.log(`| ${b.id} | ${size} | ${(performance.now() - t).toFixed(0)} | ${bb.info.featureDim} |`);
  bb.dispose();
}

console.log('\n| MobileNetV2 forward, batch 32 | img/s (1 thread, in-process) |');
console.log('|---|---|');
for (const size of [96, 224]) {
  const bb = await loadBackbone('mobilenet_v2', { imageSize: size });
  const x = tf.randomUniform([batch, size, size, 3]);
  const ms = await timeIt(async () => {
    const y = bb.model.predict(x) as tf.Tensor;
    await y.data();
    y.dispose();
  }, quick ? 2 : 5);
  console.log(`| ${size} px | ${((batch / ms) * 1000).toFixed(1)} |`);
  x.dispose();
  bb.dispose();
}

const dir = await mkdtemp(path.join(tmpdir(), 'graft-bench-'));
await writeImageFolder(dir, { perClass: Math.ceil(nImages / 4), size: 256, format: 'jpeg', patterns: defaultPatterns });
const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.jpg')).map((f) => path.join(dir, f)).sort().slice(0, nImages);

console.log(`\n| prefix cache of ${files.length} JPEGs (256 px, decode + forward) | 1 thread img/s | 2 worker threads img/s | speed-up |`);
console.log('|---|---|---|---|');
for (const size of [96, 224]) {
  const bb = await loadBackbone('mobilenet_v2', { imageSize: size });
  const preprocessing = { imageSize: size, pixelRange: bb.info.pixelRange, resize: 'cover' as const };
  for (const [label, k] of [['whole network (features)', 0], ['prefix for trainableBlocks=2', 2]] as const) {
    const { prefix } = bb.split(k);
    const rate: number[] = [];
    for (const threads of [1, 2]) {
      const t = performance.now();
      await computePrefixActivations({ prefix, files, preprocessing, threads });
      rate.push((files.length / (performance.now() - t)) * 1000);
    }
    console.log(`| ${size} px, ${label} | ${rate[0].toFixed(1)} | ${rate[1].toFixed(1)} | ${(rate[1] / rate[0]).toFixed(2)}× |`);
  }
  bb.dispose();
}
await rm(dir, { recursive: true, force: true });

console.log('\n| train on wasm (our gradient kernels), batch 32, Adam | img/s |');
console.log('|---|---|');
for (const size of [96, 224]) {
  const bb = await loadBackbone('mobilenet_v2', { imageSize: size });
  for (const k of [2, 'all'] as const) {
    if (k === 'all' && size === 224) continue; // aborts at wasm's 4 GB memory (runtime.md)
    const { suffix } = bb.split(k);
    const input = tf.input({ shape: suffix.inputs[0].shape.slice(1) as number[] });
    const out = tf.layers.dense({ units: 10, activation: 'softmax' }).apply(suffix.apply(input)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    model.compile({ optimizer: tf.train.adam(1e-4), loss: 'categoricalCrossentropy' });
    const x = tf.randomUniform([batch, ...(suffix.inputs[0].shape.slice(1) as number[])]);
    const y = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32') as tf.Tensor1D, 10);
    const ms = await timeIt(async () => {
      await model.trainOnBatch(x, y);
    }, quick || k === 'all' ? 1 : 3);
    console.log(`| ${size} px, ${k === 'all' ? 'whole network' : 'last 2 blocks + head (prefix cached)'} | ${((batch / ms) * 1000).toFixed(1)} |`);
    tf.dispose([x, y]);
  }
  bb.dispose();
}

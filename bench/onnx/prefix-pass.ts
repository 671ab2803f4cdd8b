// The frozen-prefix stage of the engine's speed benchmark (bench/engine/speed.ts: 2,000 + 1,000
// Fashion-MNIST PNGs, MobileNetV2 at 96 px, batch 32) as the engine runs it: one prefix pool (a worker
// thread per core) booted while the prefix exports for ONNX Runtime, then the training set and the
// validation set through it. feature_extraction's prefix is the whole backbone, fine_tune's all but the last
// 2 blocks (no augmented views, as in that benchmark). Beside it, the same images only decoded (sharp's
// decode + resize, the stage's other half, in this thread); and with
// --tfjs the prefix on TF.js wasm instead of ONNX Runtime (slow: minutes). Wall and CPU seconds (all threads)
// are printed, as the machine may be shared.
//   node --import tsx bench/onnx/prefix-pass.ts [--images 2000] [--test-images 1000] [--image-size 96] [--tfjs]
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type * as tf from '@tensorflow/tfjs';
import { onnxPrefixRunnerSpec } from '@graft/onnx';
import { openPrefixPool, poolThreads } from '../../packages/engine/src/activations/index.ts';
import { loadBackbone } from '../../packages/engine/src/backbones/index.ts';
import { decodeImage } from '../../packages/engine/src/preprocess/index.ts';
import { fashionLabels, readFashionMnist, takePerClass, writeDataset } from '../engine/bench-data.ts';

const { values: args } = parseArgs({
  options: {
    images: { type: 'string', default: '2000' },
    'test-images': { type: 'string', default: '1000' },
    'image-size': { type: 'string', default: '96' },
    tfjs: { type: 'boolean', default: false },
  },
});
const size = Number(args['image-size']);
const work = await mkdtemp(path.join(os.tmpdir(), 'graft-bench-prefix-'));
try {
  const train = await writeDataset(takePerClass(await readFashionMnist('train'), Number(args.images) / 10, 1), fashionLabels, path.join(work, 'train'));
  const test = await writeDataset(takePerClass(await readFashionMnist('t10k'), Number(args['test-images']) / 10, 2), fashionLabels, path.join(work, 'test'));
  const sets = [train, test].map((ds) => ds.items.map((it) => it.file));
  const count = sets.reduce((a, s) => a + s.length, 0);
  const backbone = await loadBackbone('mobilenet_v2', { imageSize: size });
  const preprocessing = { imageSize: size, pixelRange: backbone.info.pixelRange, resize: 'cover' as const };
  const threads = poolThreads(count);

  /** Wall and CPU seconds of the stage: pool start (with the runner still being prepared) to the last set. */
  const timed = async (prefix: tf.LayersModel, runner: 'onnx' | 'tfjs') => {
    const t = performance.now();
    const cpu = process.cpuUsage();
    const spec = runner === 'onnx' ? onnxPrefixRunnerSpec(prefix, { workers: threads }) : undefined;
    const pool = openPrefixPool({ prefix, preprocessing, threads, runner: spec });
    try {
      for (const files of sets) await pool.compute({ files });
    } finally {
      await pool.close();
    }
    if (spec && !(await spec)) throw new Error('onnxruntime-node is not available or the prefix does not export');
    const c = process.cpuUsage(cpu);
    return { wall: (performance.now() - t) / 1000, cpu: (c.user + c.system) / 1e6 };
  };
  const cell = (r: { wall: number; cpu: number }) => `${r.wall.toFixed(1)} / ${r.cpu.toFixed(1)}`;

  // sharp's decode + resize alone, in this thread (sharp runs it in libuv's threads), 16 images in flight
  const decodeOnly = await (async () => {
    const t = performance.now();
    const cpu = process.cpuUsage();
    const files = sets.flat();
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < files.length) await decodeImage(files[next++], preprocessing);
    }));
    const c = process.cpuUsage(cpu);
    return { wall: (performance.now() - t) / 1000, cpu: (c.user + c.system) / 1e6 };
  })();
  const rows: string[] = [];
  for (const [job, trainable] of [['feature_extraction', 0], ['fine_tune', 2]] as const) {
    const { prefix } = backbone.split(trainable);
    if (!prefix) throw new Error('no prefix');
    const ort = await timed(prefix, 'onnx');
    const tfjs = args.tfjs ? cell(await timed(prefix, 'tfjs')) : '–';
    rows.push(`| ${job} | input → ${prefix.outputs[0].shape.slice(1).join('×')} | ${cell(ort)} | ${(count / ort.wall).toFixed(0)} | ${tfjs} |`);
  }
  backbone.dispose();
  console.log(`\nPrefix stage over ${count} PNGs (${sets.map((s) => s.length).join(' + ')} in one pool), MobileNetV2 ${size} px, ${threads} worker threads; load average ${os.loadavg()[0].toFixed(1)}`);
  console.log(`decode only (sharp decode + resize in this thread, no prefix): ${cell(decodeOnly)} s wall / CPU`);
  console.log('| job | prefix | ONNX Runtime: s wall / CPU | img/s | TF.js wasm: s wall / CPU |');
  console.log('|---|---|---|---|---|');
  rows.forEach((r) => console.log(r));
} finally {
  await rm(work, { recursive: true, force: true });
}

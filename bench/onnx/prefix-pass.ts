// The frozen-prefix stage of the engine's speed benchmark (bench/engine/speed.ts: 2,000 + 1,000
// Fashion-MNIST PNGs, MobileNetV2 at 96 px, batch 32): the engine's activation cache
// (computePrefixActivations: decode, resize, prefix forward, one worker thread per core) timed with the
// prefix on ONNX Runtime (onnxPrefixRunnerSpec) and on TF.js wasm. feature_extraction's prefix is the
// whole backbone, fine_tune's all but the last 2 blocks (and fine_tune caches no augmented views in
// that benchmark). The rest of each job is the same on both paths, so
//   job time with ORT = job time from bench/engine/speed.ts − TF.js stage + ORT stage.
//   npx tsx bench/onnx/prefix-pass.ts [--images 2000] [--test-images 1000] [--image-size 96]
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { onnxPrefixRunnerSpec } from '@graft/onnx';
import { computePrefixActivations } from '../../packages/engine/src/activations/index.ts';
import { loadBackbone } from '../../packages/engine/src/backbones/index.ts';
import { fashionLabels, readFashionMnist, takePerClass, writeDataset } from '../engine/bench-data.ts';

const { values: args } = parseArgs({
  options: { images: { type: 'string', default: '2000' }, 'test-images': { type: 'string', default: '1000' }, 'image-size': { type: 'string', default: '96' } },
});
const size = Number(args['image-size']);
const work = await mkdtemp(path.join(os.tmpdir(), 'graft-bench-prefix-'));
try {
  const train = await writeDataset(takePerClass(await readFashionMnist('train'), Number(args.images) / 10, 1), fashionLabels, path.join(work, 'train'));
  const test = await writeDataset(takePerClass(await readFashionMnist('t10k'), Number(args['test-images']) / 10, 2), fashionLabels, path.join(work, 'test'));
  const files = [...train.items, ...test.items].map((it) => it.file);
  const backbone = await loadBackbone('mobilenet_v2', { imageSize: size });
  const preprocessing = { imageSize: size, pixelRange: backbone.info.pixelRange, resize: 'cover' as const };
  const workers = os.availableParallelism();

  const rows: string[] = [];
  for (const [job, trainable] of [['feature_extraction', 0], ['fine_tune', 2]] as const) {
    const { prefix } = backbone.split(trainable);
    if (!prefix) throw new Error('no prefix');
    const timed = async (runner?: Awaited<ReturnType<typeof onnxPrefixRunnerSpec>>) => {
      const t = performance.now();
      await computePrefixActivations({ prefix, files, preprocessing, batchSize: 32, runner: runner ?? undefined });
      return (performance.now() - t) / 1000;
    };
    const spec = await onnxPrefixRunnerSpec(prefix, { workers });
    if (!spec) throw new Error('onnxruntime-node is not available or the prefix does not export');
    const ortSeconds = await timed(spec);
    const tfjsSeconds = await timed();
    rows.push(`| ${job} | input → ${prefix.outputs[0].shape.slice(1).join('×')} | ${ortSeconds.toFixed(1)} | ${tfjsSeconds.toFixed(1)} | ${(tfjsSeconds / ortSeconds).toFixed(1)}× |`);
  }
  backbone.dispose();
  console.log(`\nActivation cache over ${files.length} PNGs (decode + prefix), MobileNetV2 ${size} px, ${workers} worker threads; load average ${os.loadavg()[0].toFixed(1)}`);
  console.log('| job | prefix | ONNX Runtime (s) | tfjs wasm (s) | speed-up |');
  console.log('|---|---|---|---|---|');
  rows.forEach((r) => console.log(r));
} finally {
  await rm(work, { recursive: true, force: true });
}

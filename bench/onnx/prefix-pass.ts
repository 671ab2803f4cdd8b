// The frozen-prefix pass of the engine's speed benchmark (bench/engine/speed.ts: 2,000 + 1,000 images,
// MobileNetV2 at 96 px, batch 32), timed on ONNX Runtime and on TF.js wasm: feature_extraction's prefix
// is the whole backbone, fine_tune's is all but the last 2 blocks. This is the part of those jobs that
// moves to ONNX Runtime once the engine's activation cache uses createModelRunner.
//   npx tsx bench/onnx/prefix-pass.ts [--images 3000] [--image-size 96]
import os from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { createModelRunner } from '@graft/onnx';
import { loadBackbone } from '../../packages/engine/src/backbones/index.ts';

const { values: args } = parseArgs({ options: { images: { type: 'string', default: '3000' }, 'image-size': { type: 'string', default: '96' } } });
const images = Number(args.images);
const size = Number(args['image-size']);
const BATCH = 32;

const backbone = await loadBackbone('mobilenet_v2', { imageSize: size });
const batch = Float32Array.from({ length: BATCH * size * size * 3 }, () => Math.random());

/** Seconds to push `images` images through `run` in batches of 32 (the last one partial). */
async function seconds(run: (x: Float32Array, n: number) => Promise<unknown>): Promise<number> {
  await run(batch, BATCH);
  const t = performance.now();
  for (let done = 0; done < images; done += BATCH) {
    const n = Math.min(BATCH, images - done);
    await run(batch.subarray(0, n * size * size * 3), n);
  }
  return (performance.now() - t) / 1000;
}

console.log(`Frozen prefix over ${images} images, MobileNetV2 ${size} px, batch ${BATCH}; load average ${os.loadavg()[0].toFixed(1)}`);
console.log('| job | prefix | ONNX Runtime (s) | tfjs wasm (s) | speed-up |');
console.log('|---|---|---|---|---|');
for (const [job, trainable] of [['feature_extraction', 0], ['fine_tune', 2]] as const) {
  const { prefix } = backbone.split(trainable);
  if (!prefix) throw new Error('no prefix');
  const onnx = await createModelRunner(prefix);
  if (!onnx) throw new Error('onnxruntime-node is not available or the prefix does not export');
  const ortSeconds = await seconds((x, n) => onnx.runner.run(x, n));
  await onnx.runner.dispose();
  const wasmSeconds = await seconds(async (x, n) => tf.tidy(() => (prefix.predict(tf.tensor(x, [n, size, size, 3])) as tf.Tensor).dataSync()));
  const out = prefix.outputs[0].shape.slice(1).join('×');
  console.log(`| ${job} | input → ${out} | ${ortSeconds.toFixed(1)} | ${wasmSeconds.toFixed(1)} | ${(wasmSeconds / ortSeconds).toFixed(1)}× |`);
}
backbone.dispose();

// MobileNetV2 inference, images/s at 96 and 224 px, batch 1 and 32: ONNX Runtime (our export, all
// cores) vs TF.js wasm (the engine's backend, one thread) vs PyTorch (torchvision, all cores; plain and
// with huge pages), in one run, one path at a time. Prints a table, the ratios and the fraction of
// the machine's peak reached.  Run: npx tsx bench/onnx/inference.ts
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { createOnnxRunner, exportToOnnx } from '@graft/onnx';
import { loadBackbone } from '../../packages/engine/src/backbones/index.ts';
import { machinePeak, macsPerImage } from './peak.ts';

const SIZES = [96, 224];
const BATCHES = [1, 32];
interface Rate {
  median: number;
  best: number;
}
type Row = Record<string, Rate>;

/**
 * Median images/s over at least 3 timed runs and `seconds` of running, after one warm-up; with it the
 * best run, which is what the path does when no other process takes the cores.
 */
async function imagesPerSecond(run: () => Promise<unknown>, batch: number, seconds: number): Promise<Rate> {
  await run();
  const rates: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  while (rates.length < 3 || performance.now() < deadline) {
    const t = performance.now();
    await run();
    rates.push((batch * 1000) / (performance.now() - t));
  }
  rates.sort((a, b) => a - b);
  return { median: rates[rates.length >> 1], best: rates[rates.length - 1] };
}

function pytorch(hugePages: boolean): { version: string; rates: Row } {
  const script = fileURLToPath(new URL('./pytorch_inference.py', import.meta.url));
  const env = { ...process.env, ...(hugePages ? { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' } : {}) };
  const out = JSON.parse(execFileSync('/usr/bin/python3', [script], { env, encoding: 'utf8' }).trim().split('\n').pop()!);
  return { version: out.torch, rates: out.rates };
}

const key = (size: number, batch: number) => `${size}x${batch}`;
const fmt = (x: number | undefined) => (x === undefined ? '—' : x >= 100 ? x.toFixed(0) : x.toFixed(1));

const ort: Row = {};
const wasm: Row = {};
const macs: Record<number, number> = {};
const torchPlain = pytorch(false);
const torchHuge = pytorch(true);

for (const size of SIZES) {
  const backbone = await loadBackbone('mobilenet_v2', { imageSize: size });
  macs[size] = macsPerImage(backbone.model);
  const runner = await createOnnxRunner(exportToOnnx(backbone.model));
  if (!runner) throw new Error('onnxruntime-node is not available');
  for (const batch of BATCHES) {
    const data = Float32Array.from({ length: batch * size * size * 3 }, () => Math.random());
    const seconds = batch === 1 ? 2 : 6;
    ort[key(size, batch)] = await imagesPerSecond(() => runner.run(data, batch), batch, seconds);
    const input = tf.tensor(data, [batch, size, size, 3]);
    wasm[key(size, batch)] = await imagesPerSecond(async () => tf.tidy(() => (backbone.model.predict(input) as tf.Tensor).dataSync()), batch, seconds);
    input.dispose();
  }
  await runner.dispose();
  backbone.dispose();
}

const peak = machinePeak();
console.log(`\nMobileNetV2 1.0 inference, images/s. TF.js ${tf.getBackend()} (1 thread); ONNX Runtime ${peak.cores} threads; PyTorch ${torchPlain.version}, ${peak.cores} threads.`);
console.log(`Load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} at the end (other processes share the cores when above ~0).`);
for (const stat of ['median', 'best'] as const) {
  console.log(`\n${stat} run:`);
  console.log('| size × batch | ONNX Runtime | tfjs wasm | PyTorch | PyTorch hugetlb | ORT / PyTorch | ORT / PyTorch hugetlb | ORT / tfjs |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const size of SIZES)
    for (const batch of BATCHES) {
      const k = key(size, batch);
      const [o, w, p, h] = [ort, wasm, torchPlain.rates, torchHuge.rates].map((r) => r[k][stat]);
      console.log(`| ${size} × ${batch} | ${fmt(o)} | ${fmt(w)} | ${fmt(p)} | ${fmt(h)} | ${(o / p).toFixed(2)}× | ${(o / h).toFixed(2)}× | ${(o / w).toFixed(2)}× |`);
    }
}

console.log(`\nPeak: ${peak.cpu}, ${peak.cores} cores, ${peak.assumption} = ${peak.gflops.toFixed(0)} GFLOP/s`);
console.log('| size × batch | MFLOPs/image (2 × MACs) | fastest path | img/s median / best | GFLOP/s median / best | fraction of peak median / best |');
console.log('|---|---|---|---|---|---|');
for (const size of SIZES)
  for (const batch of BATCHES) {
    const k = key(size, batch);
    const paths: [string, Rate][] = [['ONNX Runtime', ort[k]], ['tfjs wasm', wasm[k]], ['PyTorch', torchPlain.rates[k]], ['PyTorch hugetlb', torchHuge.rates[k]]];
    const [name, rate] = paths.sort((a, b) => b[1].median - a[1].median)[0];
    const gflops = [rate.median, rate.best].map((r) => (2 * macs[size] * r) / 1e9);
    const pct = gflops.map((g) => `${((100 * g) / peak.gflops).toFixed(1)}%`);
    console.log(`| ${size} × ${batch} | ${((2 * macs[size]) / 1e6).toFixed(0)} | ${name} | ${fmt(rate.median)} / ${fmt(rate.best)} | ${gflops.map((g) => g.toFixed(1)).join(' / ')} | ${pct.join(' / ')} |`);
  }

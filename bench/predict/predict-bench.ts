// /predict speed over loopback against a warm model, beside PyTorch eager on the same model size in
// the same run. MobileNetV2 (the registered backbone, pretrained weights) + a softmax head of
// --classes classes, served by the real app (Postgres row, storage checkpoint, inference threads).
//   npx tsx bench/predict/predict-bench.ts [--size 224] [--classes 10] [--seconds 10] [--threads 1]
// Ours is measured end to end (HTTP + JSON + base64 + JPEG decode/resize + forward); PyTorch is the
// forward pass alone on a ready tensor, so the comparison favours PyTorch.
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import autocannon from 'autocannon';
import pino from 'pino';
import { loadConfig } from '@graft/config';
import { createPrisma, dropDatabase, migrate } from '@graft/db';
import { loadBackbone } from '@graft/engine';
import { createJobQueue } from '@graft/queue';
import { openStorage } from '@graft/storage';
import { buildApp } from '../../apps/api/src/app.ts';
import { defaultPatterns, encodeImage, mulberry32, renderPattern } from '../../test/support/images.ts';

const { values } = parseArgs({
  options: { size: { type: 'string', default: '224' }, classes: { type: 'string', default: '10' }, seconds: { type: 'string', default: '10' }, threads: { type: 'string', default: '1' } },
});
const size = Number(values.size);
const classes = Number(values.classes);
const seconds = Number(values.seconds);
const threads = Number(values.threads);
// the app reads its inference pool size from the environment, like in production
process.env.PREDICT_THREADS = String(threads);

/** The served model in the engine's checkpoint format, as files. */
async function servedCheckpoint(): Promise<Map<string, Buffer>> {
  const backbone = await loadBackbone('mobilenet_v2', { imageSize: size });
  const head = tf.layers.dense({ units: classes, activation: 'softmax', name: 'bench_head' });
  const model = tf.model({ inputs: backbone.model.inputs, outputs: head.apply(backbone.model.outputs[0]!) as tf.SymbolicTensor });
  const files = new Map<string, Buffer>();
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const weightsManifest = [{ paths: ['weights.bin'], weights: a.weightSpecs }];
      files.set('model.json', Buffer.from(JSON.stringify({ format: 'layers-model', modelTopology: a.modelTopology, weightsManifest })));
      files.set('weights.bin', Buffer.from(a.weightData as ArrayBuffer));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const labels = Array.from({ length: classes }, (_, i) => `class_${i}`);
  files.set('metadata.json', Buffer.from(JSON.stringify({ labels, preprocessing: { imageSize: size, pixelRange: backbone.info.pixelRange, resize: 'cover' } })));
  return files;
}

async function main() {
  const dbUrl = `postgresql://postgres@127.0.0.1:5432/graft_bench_predict_${randomBytes(3).toString('hex')}`;
  const storageDir = await mkdtemp(path.join(tmpdir(), 'graft-bench-predict-'));
  await migrate(dbUrl);
  const prisma = createPrisma(dbUrl);
  // the operator's key: the job below is in the default tenant, which has no predictPerMinute quota
  const adminKey = `graft_bench_${randomBytes(16).toString('hex')}`;
  const config = loadConfig({ ...process.env, DATABASE_URL: dbUrl, STORAGE_URL: `file://${storageDir}`, QUEUE_PREFIX: `graft-bench-${randomBytes(3).toString('hex')}`, GRAFT_ADMIN_KEY: adminKey });
  const queue = createJobQueue(config);
  const storage = openStorage(config);
  const app = await buildApp({ config, prisma, queue, storage, logger: pino({ level: 'warn' }) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  try {
    const jobId = randomUUID();
    for (const [name, bytes] of await servedCheckpoint()) await storage.put(`jobs/${jobId}/model/${name}`, bytes);
    await prisma.job.create({ data: { id: jobId, method: 'fine_tune', status: 'succeeded', progress: 1, spec: {}, checkpointKey: `jobs/${jobId}/model/`, finishedAt: new Date() } });

    const image = (await encodeImage(renderPattern(defaultPatterns[0]!, mulberry32(1), { size }), size, 'jpeg')).toString('base64');
    const one = JSON.stringify({ jobId, images: [image] });
    const thirtyTwo = JSON.stringify({ jobId, images: Array(32).fill(image) });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` };
    const post = (body: string) => ({ url: `${url}/predict`, method: 'POST' as const, headers, body });
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${url}/predict`, { method: 'POST', headers, body: one });
      if (!res.ok) throw new Error(`warm-up failed: ${res.status} ${await res.text()}`);
    }
    await fetch(`${url}/predict`, { method: 'POST', headers, body: thirtyTwo });

    const single = await autocannon({ ...post(one), connections: 1, duration: seconds });
    // /healthz polled during the 200-connection run shows whether the event loop stays free
    const health: number[] = [];
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const t = performance.now();
        await fetch(`${url}/healthz`);
        health.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const crowd = await autocannon({ ...post(one), connections: 200, amount: 1000, timeout: 60 });
    polling = false;
    await poll;
    const batch = await autocannon({ ...post(thirtyTwo), connections: 2, duration: seconds, timeout: 60 });

    // PyTorch's strongest setting counts: 1 or 2 threads, with and without huge pages (runtime.md)
    type Py = { torch: string; threads: number; p50_ms: number; p99_ms: number; batch32_img_s: number; hugetlb: boolean };
    const runs: Py[] = [];
    for (const hugetlb of [false, true]) {
      for (const pyThreads of [1, 2]) {
        const env = { ...process.env, ...(hugetlb ? { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' } : {}) };
        const script = path.join(import.meta.dirname, 'pytorch_predict.py');
        const { stdout } = await promisify(execFile)('/usr/bin/python3', [script, String(size), String(classes), String(seconds), String(pyThreads)], { env });
        runs.push({ ...(JSON.parse(stdout) as Py), hugetlb });
      }
    }
    const bestBy = (better: (a: Py, b: Py) => boolean) => runs.reduce((a, b) => (better(b, a) ? b : a));
    const pyLatency = bestBy((a, b) => a.p50_ms < b.p50_ms);
    const pyBatch = bestBy((a, b) => a.batch32_img_s > b.batch32_img_s);
    const py = { torch: pyLatency.torch, p50_ms: pyLatency.p50_ms, p99_ms: pyLatency.p99_ms, batch32_img_s: pyBatch.batch32_img_s };
    const setting = (r: Py) => `${r.threads} thread(s)${r.hugetlb ? ', huge pages' : ''}`;

    health.sort((a, b) => a - b);
    const stats = app.predictor.pool.stats;
    const ourBatch = batch.requests.average * 32;
    const rows = [
      ['single image p50 (ms)', single.latency.p50.toFixed(1), py.p50_ms.toFixed(1), (py.p50_ms / single.latency.p50).toFixed(2)],
      ['single image p99 (ms)', single.latency.p99.toFixed(1), py.p99_ms.toFixed(1), (py.p99_ms / single.latency.p99).toFixed(2)],
      ['batch-32 throughput (img/s)', ourBatch.toFixed(1), py.batch32_img_s.toFixed(1), (ourBatch / py.batch32_img_s).toFixed(2)],
    ];
    console.log(
      `\n/predict vs PyTorch eager — MobileNetV2 ${size}px, ${classes} classes, ${threads} inference thread(s), runner ${stats.runner}, backend ${stats.backend}; ` +
        `torch ${py.torch}, best of 4 settings (latency: ${setting(pyLatency)}; batch: ${setting(pyBatch)})`,
    );
    console.log('| measure | Graft /predict (HTTP end to end) | PyTorch eager (forward only) | speed ratio (>1 = Graft faster) |');
    console.log('|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.join(' | ')} |`);
    console.log(
      `\n200 concurrent connections, 1000 single-image requests: ${crowd.non2xx} non-2xx, ${crowd.errors} errors, ${crowd.timeouts} timeouts; ` +
        `p50 ${crowd.latency.p50} ms, p99 ${crowd.latency.p99} ms, ${crowd.requests.average.toFixed(1)} req/s; ` +
        `${stats.batches} forward passes for ${stats.images} images (dynamic batching); /healthz during it: p50 ${health[Math.floor(health.length / 2)]?.toFixed(1)} ms, max ${health.at(-1)?.toFixed(1)} ms`,
    );
    console.log('PyTorch runs:', runs.map((r) => `${setting(r)}: p50 ${r.p50_ms.toFixed(1)} ms, batch-32 ${r.batch32_img_s.toFixed(1)} img/s`).join('; '));
  } finally {
    await app.close();
    await queue.close();
    await prisma.$disconnect();
    await dropDatabase(dbUrl);
    await rm(storageDir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);

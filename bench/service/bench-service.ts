// The service as benches run it: started the way `npm start` starts it (API + one worker) on its own
// database, queue prefix, storage and datasets folder and a spare loopback port, with an operator key (the
// benches' archives are file:// URLs, which only an admin key may name); Fashion-MNIST written as the
// ImageFolder zips a user uploads. Stopped and dropped by stop().
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import sharp from 'sharp';
import yazl from 'yazl';
import type { PredictResponse } from '@graft/spec';
import { dropDatabase } from '@graft/db';
import { fashionLabels, type RawImages } from '../engine/bench-data.ts';

/** An ImageFolder zip of PNGs, the way a user uploads one. */
export async function writeZip(raw: RawImages, file: string): Promise<void> {
  const zip = new yazl.ZipFile();
  for (let i = 0; i < raw.pixels.length; i++) {
    const png = await sharp(Buffer.from(raw.pixels[i]!), { raw: { width: raw.size, height: raw.size, channels: raw.channels } }).png().toBuffer();
    zip.addBuffer(png, `${fashionLabels[raw.labels[i]!]}/${i}.png`);
  }
  zip.end();
  await new Promise<void>((resolve, reject) => zip.outputStream.pipe(createWriteStream(file)).on('finish', resolve).on('error', reject));
}

function sparePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface BenchService {
  /** base URL of the API */
  api: string;
  /** put archives here and name them file://<datasetsDir>/… */
  datasetsDir: string;
  /** the `npm start` process (the API and the worker are its children) */
  process: ChildProcess;
  /** a JSON request with the operator key */
  http<T>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** resolves once the API is ready and the worker has said so, as with `npm start` already running */
  ready(): Promise<void>;
  /** stops the service, drops its database; `keepLog` copies the service's log (pino JSON) there first */
  stop(keepLog?: string): Promise<void>;
}

/** `root`: the checkout whose scripts/start.mjs runs (another one compares it with today in the same conditions). */
export async function startBenchService(root: string, work: string, env: Record<string, string> = {}): Promise<BenchService> {
  const dbUrl = `postgresql://postgres@127.0.0.1:5432/graft_bench_${process.pid}`;
  const port = await sparePort();
  const api = `http://127.0.0.1:${port}`;
  const datasetsDir = path.join(work, 'data');
  await mkdir(datasetsDir, { recursive: true });
  const logFile = path.join(work, 'service.log');
  const log = createWriteStream(logFile);
  const adminKey = `graft_bench_${randomBytes(16).toString('hex')}`;
  const service = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: dbUrl,
      QUEUE_PREFIX: `graft-bench-${process.pid}`,
      STORAGE_URL: `file://${path.join(work, 'storage')}`,
      DATASETS_DIR: datasetsDir,
      GRAFT_ADMIN_KEY: adminKey,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      ...env,
    },
  });
  service.stdout!.pipe(log);
  service.stderr!.pipe(log);

  async function http<T>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${api}${url}`, { method, headers: { authorization: `Bearer ${adminKey}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    return { status: res.status, body: (await res.json().catch(() => null)) as T };
  }
  async function ready(): Promise<void> {
    const workerReady = async () => (await readFile(logFile, 'utf8').catch(() => '')).includes('"msg":"worker ready"');
    for (let i = 0; ; i++) {
      if ((await fetch(`${api}/readyz`).then((r) => r.status).catch(() => 0)) === 200 && (await workerReady())) return;
      if (i > 600 || service.exitCode !== null) throw new Error(`the service did not become ready; see ${logFile}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  async function stop(keepLog?: string): Promise<void> {
    service.kill('SIGTERM');
    if (service.exitCode === null) await new Promise((r) => service.once('exit', r));
    await dropDatabase(dbUrl).catch(() => {});
    if (keepLog) await copyFile(logFile, keepLog);
    await rm(work, { recursive: true, force: true });
  }
  return { api, datasetsDir, process: service, http, ready, stop };
}

/** Polls `url` every second until `done` says the body is final (a job or sweep that ended). */
export async function until<T>(svc: Pick<BenchService, 'http'>, url: string, done: (body: T) => boolean): Promise<T> {
  for (;;) {
    const { body } = await svc.http<T>('GET', url);
    if (done(body)) return body;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** A held-out image as POST /predict takes it, with the label it should get. */
export interface LabelledImage {
  base64: string;
  label: string;
}

/** Share of the held-out images the job's model labels right, through POST /predict, as a user would score it. */
export async function heldOutAccuracy(svc: Pick<BenchService, 'http'>, jobId: string, test: LabelledImage[]): Promise<number> {
  let correct = 0;
  for (let i = 0; i < test.length; i += 50) {
    const batch = test.slice(i, i + 50);
    const res = await svc.http<PredictResponse>('POST', '/predict', { jobId, images: batch.map((t) => t.base64), topK: 1 });
    if (res.status !== 200) throw new Error(`POST /predict: ${res.status} ${JSON.stringify(res.body)}`);
    res.body.predictions.forEach((p, j) => (correct += p.label === batch[j]!.label ? 1 : 0));
  }
  return correct / test.length;
}

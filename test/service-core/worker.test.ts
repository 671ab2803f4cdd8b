// The worker as users run it: real worker processes (BullMQ + worker thread + TF.js), real Postgres,
// Redis and a storage folder, jobs submitted the way the API submits them.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cancelJob, createJobQueue, submitJob } from '@graft/queue';
import { openStorage } from '@graft/storage';
import { loadConfig } from '@graft/config';
import type { JobSpec } from '@graft/spec';
import { createTestDatabase } from '../support/db.ts';
import { makeImageFolderZip, zipEntries, makeImageFolderFiles } from '../support/images.ts';
import { pngClaiming, zipWithRawNames } from '../support/archives.ts';
import { startS3 } from '../support/s3.ts';
import { isTerminal, killWorker, startWorkerProcess, uniqueQueuePrefix, waitForJob, type WorkerProcess } from '../support/service.ts';

const db = await createTestDatabase('worker');
const { prisma } = db;
const work = await mkdtemp(path.join(tmpdir(), 'graft-worker-test-'));
const datasetsDir = path.join(work, 'data');
await mkdir(datasetsDir);
const storageUrl = `file://${path.join(work, 'storage')}`;
const queuePrefix = uniqueQueuePrefix('worker');
const queue = createJobQueue({ redisUrl: 'redis://127.0.0.1:6379', queuePrefix });
const storage = openStorage({ storageUrl, s3: loadConfig({}).s3 });
const workerEnv = {
  DATABASE_URL: db.url,
  QUEUE_PREFIX: queuePrefix,
  STORAGE_URL: storageUrl,
  DATASETS_DIR: datasetsDir,
  // short locks so a killed worker's job is recovered within seconds (long enough to survive a loaded machine)
  WORKER_LOCK_DURATION_MS: '8000',
  WORKER_STALLED_INTERVAL_MS: '2000',
  SHUTDOWN_GRACE_MS: '1000',
};
const workers: WorkerProcess[] = [];
const startWorker = () => {
  const w = startWorkerProcess(workerEnv);
  workers.push(w);
  return w;
};
after(async () => {
  await Promise.all(workers.map(killWorker));
  await queue.obliterate({ force: true });
  await queue.close();
  await rm(work, { recursive: true, force: true });
});

async function datasetFile(name: string, bytes: Buffer): Promise<string> {
  const file = path.join(datasetsDir, name);
  await writeFile(file, bytes);
  return `file://${file}`;
}

const small = { imageSize: 32, epochs: 2, batchSize: 8, seed: 1, trainableBlocks: 1, augment: false } as const;

describe('one worker process', () => {
  let worker: WorkerProcess;
  before(async () => {
    worker = startWorker();
    await worker.waitForLog(/worker ready/);
  });
  after(() => killWorker(worker));

  test('a small ImageFolder job goes queued -> running -> succeeded with epochs, evaluation and a checkpoint', async () => {
    const url = await datasetFile('shapes.zip', await makeImageFolderZip({ perClass: 10, size: 32, topFolder: 'shapes' }));
    const spec: JobSpec = { method: 'fine_tune', dataset: { url }, hyperparameters: small };
    const job = await submitJob({ prisma, queue }, spec);
    assert.equal(job.status, 'queued');
    const running = await waitForJob(prisma, job.id, (j) => j.status !== 'queued');
    assert.ok(['running', 'succeeded'].includes(running.status), running.status);
    const done = await waitForJob(prisma, job.id, isTerminal);
    assert.equal(done.status, 'succeeded', `${done.errorCode}: ${done.errorMessage}\n${worker.output().slice(-3000)}`);
    assert.equal(done.progress, 1);
    assert.deepEqual(done.classes, ['green_circle', 'red_square']);
    assert.equal(done.attempts, 1);

    const epochs = await prisma.epochMetric.findMany({ where: { jobId: job.id }, orderBy: { epoch: 'asc' } });
    assert.ok(epochs.length >= 1 && epochs.length <= 2, `${epochs.length} epoch rows`);
    assert.deepEqual(epochs.map((e) => e.epoch), epochs.map((_, i) => i + 1));
    assert.ok(epochs.every((e) => Number.isFinite(e.loss)));
    const evaluation = await prisma.evaluation.findUniqueOrThrow({ where: { jobId: job.id } });
    const data = evaluation.data as { accuracy: number; confusionMatrix: { labels: string[] } };
    assert.deepEqual(data.confusionMatrix.labels, ['green_circle', 'red_square']);
    assert.ok(data.accuracy >= 0 && data.accuracy <= 1);

    // Postgres says succeeded just before the processor returns to BullMQ
    for (let i = 0; i < 50 && (await queue.getJobState(job.id)) !== 'completed'; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await queue.getJobState(job.id), 'completed');
    assert.equal(((await queue.getJob(job.id))?.progress as { stage?: string }).stage, 'saving', 'progress mirrored to BullMQ');

    assert.equal(done.checkpointKey, `jobs/${job.id}/model/`);
    const files = await storage.list(done.checkpointKey!);
    for (const name of ['model.json', 'metadata.json']) assert.ok(files.includes(`${done.checkpointKey}${name}`), `${name} in ${files}`);
    assert.ok(files.some((f) => f.endsWith('.bin')), 'weights stored');
  });

  test('bad datasets each end failed with their code and an actionable reason; the worker keeps serving', async () => {
    const oneClass = await makeImageFolderFiles({ perClass: 4, size: 32 });
    const cases: [string, string, string][] = [
      ['not an archive', await datasetFile('notes.zip', Buffer.from('this is plain text, not a zip')), 'not_an_archive'],
      ['no images', await datasetFile('text.zip', await zipEntries(new Map([['a/readme.txt', Buffer.from('x')], ['b/notes.txt', Buffer.from('y')]]))), 'no_images'],
      [
        'one class',
        await datasetFile('one.zip', await zipEntries(new Map([...oneClass].filter(([k]) => k.startsWith('red_square/'))))),
        'too_few_classes',
      ],
      ['path traversal', await datasetFile('evil.zip', await zipWithRawNames(new Map([['../evil.png', [...oneClass.values()][0]!]]))), 'path_traversal'],
      [
        'pixel bomb',
        await datasetFile('bomb.zip', await zipEntries(new Map([...oneClass, ['red_square/huge.png', pngClaiming(20_000, 20_000)]]))),
        'image_too_large',
      ],
      ['outside DATASETS_DIR', 'file:///etc/passwd', 'url_not_allowed'],
      ['missing upload id', '', 'not_found'],
    ];
    const jobs = await Promise.all(
      cases.map(([, url]) =>
        submitJob({ prisma, queue }, { method: 'fine_tune', dataset: url ? { url } : { id: '00000000-0000-4000-8000-000000000000' }, hyperparameters: small }),
      ),
    );
    for (const [i, [name, , code]] of cases.entries()) {
      const done = await waitForJob(prisma, jobs[i]!.id, isTerminal);
      assert.equal(done.status, 'failed', name);
      assert.equal(done.errorCode, code, `${name}: ${done.errorMessage}`);
      assert.match(done.errorMessage ?? '', /^dataset: .{20,}/, `${name}: the reason names the dataset and says what is wrong`);
      assert.equal(done.attempts, 1, `${name}: a user error is not retried`);
    }
    assert.equal(worker.child.exitCode, null, 'worker still running');
  });

  test('DELETE of a running job stops it at the next batch and it ends cancelled', async () => {
    const url = await datasetFile('cancel.zip', await makeImageFolderZip({ perClass: 24, size: 32 }));
    const job = await submitJob({ prisma, queue }, { method: 'fine_tune', dataset: { url }, hyperparameters: { ...small, epochs: 200, earlyStoppingPatience: 0 } });
    await waitForJob(prisma, job.id, (j) => j.status === 'running' && (j.stage ?? '').length > 0 && j.progress > 0.05);
    const requested = Date.now();
    assert.equal((await cancelJob({ prisma, queue }, job.id)).outcome, 'cancelling');
    const done = await waitForJob(prisma, job.id, isTerminal, 30_000);
    assert.equal(done.status, 'cancelled');
    assert.ok(Date.now() - requested < 15_000, `stopped ${Date.now() - requested} ms after the request`);
  });
});

describe('worker processes that die or stop', () => {
  // long enough that a job is still mid-training when the signal lands: with the frozen prefix on ONNX
  // Runtime an epoch of this tiny set takes ~50 ms, so 15 epochs could finish inside the 1 s grace
  const longer = { ...small, epochs: 150, earlyStoppingPatience: 0 };
  /** mid-job: at least one epoch written, more to come */
  const waitForEpochs = async (jobId: string) => {
    const deadline = Date.now() + 60_000;
    while ((await prisma.epochMetric.count({ where: { jobId } })) === 0) {
      assert.ok(Date.now() < deadline, 'no epoch written within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  test('a worker SIGKILLed mid-job: the job is picked up by a second worker and succeeds, epochs not duplicated', async () => {
    const url = await datasetFile('kill.zip', await makeImageFolderZip({ perClass: 16, size: 32 }));
    const first = startWorker();
    await first.waitForLog(/worker ready/);
    const job = await submitJob({ prisma, queue }, { method: 'fine_tune', dataset: { url }, hyperparameters: longer });
    await waitForEpochs(job.id);
    first.child.kill('SIGKILL');
    await first.exited;
    assert.equal((await prisma.job.findUniqueOrThrow({ where: { id: job.id } })).status, 'running', 'the dead worker left it running');

    const second = startWorker();
    await second.waitForLog(/stalled/, 30_000);
    const done = await waitForJob(prisma, job.id, isTerminal, 120_000, [first, second]);
    assert.equal(done.status, 'succeeded', `${done.errorCode}: ${done.errorMessage}`);
    assert.equal(done.attempts, 2);
    const epochs = await prisma.epochMetric.findMany({ where: { jobId: job.id }, orderBy: { epoch: 'asc' } });
    assert.deepEqual(epochs.map((e) => e.epoch), Array.from({ length: longer.epochs }, (_, i) => i + 1));
    await killWorker(second);
  });

  test('SIGTERM: the worker hands its unfinished job back and exits; another worker finishes the job', async () => {
    const url = await datasetFile('term.zip', await makeImageFolderZip({ perClass: 16, size: 32 }));
    const first = startWorker();
    await first.waitForLog(/worker ready/);
    const job = await submitJob({ prisma, queue }, { method: 'fine_tune', dataset: { url }, hyperparameters: longer });
    await waitForEpochs(job.id);
    const stopAt = Date.now();
    first.child.kill('SIGTERM');
    const exit = await first.exited;
    assert.equal(exit.code, 0, first.output().slice(-2000));
    assert.ok(Date.now() - stopAt < 10_000, `exited ${Date.now() - stopAt} ms after SIGTERM`);
    assert.match(first.output(), /handing it back/);
    const handedBack = await prisma.job.findUniqueOrThrow({ where: { id: job.id } });
    assert.equal(handedBack.status, 'queued');
    assert.equal(await (await queue.getJob(job.id))?.getState(), 'waiting', 'back in the queue at once, not after its lock expires');

    const second = startWorker();
    const done = await waitForJob(prisma, job.id, isTerminal, 120_000, [first, second]);
    assert.equal(done.status, 'succeeded', `${done.errorCode}: ${done.errorMessage}`);
    assert.equal(done.attempts, 2);
    await killWorker(second);
  });
});

describe('S3 storage (s3rver) and an uploaded dataset', () => {
  test('a job on a dataset uploaded by id reads it from S3 and writes its checkpoint there', async () => {
    const s3 = await startS3();
    const s3Storage = openStorage({ storageUrl: `s3://${s3.bucket}/graft`, s3: s3.s3 });
    const worker = startWorkerProcess({
      ...workerEnv,
      STORAGE_URL: `s3://${s3.bucket}/graft`,
      S3_ENDPOINT: s3.endpoint,
      AWS_ACCESS_KEY_ID: s3.s3.credentials!.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.s3.credentials!.secretAccessKey,
    });
    try {
      // what POST /datasets does: bytes to storage, a Dataset row pointing at them
      const bytes = await makeImageFolderZip({ perClass: 10, size: 32, format: 'jpeg' });
      const dataset = await prisma.dataset.create({ data: { filename: 'shapes.zip', storageKey: 'datasets/shapes/archive', sizeBytes: bytes.length } });
      await s3Storage.put(dataset.storageKey, bytes);
      const job = await submitJob({ prisma, queue }, { method: 'feature_extraction', dataset: { id: dataset.id }, hyperparameters: { imageSize: 32, seed: 1 } });
      const done = await waitForJob(prisma, job.id, isTerminal, 120_000);
      assert.equal(done.status, 'succeeded', `${done.errorCode}: ${done.errorMessage}\n${worker.output().slice(-3000)}`);
      const files = await s3Storage.list(done.checkpointKey!);
      assert.ok(files.includes(`${done.checkpointKey}model.json`), `${files}`);
      assert.ok(files.includes(`${done.checkpointKey}metadata.json`), `${files}`);
    } finally {
      await killWorker(worker);
      await s3.close();
    }
  });
});

// Sweeps run by two real worker processes (real Redis, Postgres, HTTP, TF.js on tiny images): a grid
// ends with a leaderboard and a best trial that predicts, a trial that fails does not fail the sweep
// below maxFailedTrials, ASHA prunes a trial that cannot learn, DELETE cancels every unfinished trial,
// and a worker killed mid-sweep does not keep the sweep from succeeding.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startTestApi } from '../support/api.ts';
import { startWorkerForApi } from '../support/api-worker.ts';
import { defaultPatterns, encodeImage, makeImageFolderZip, mulberry32, renderPattern } from '../support/images.ts';
import { killWorker } from '../support/service.ts';

const api = await startTestApi();
// short locks and ticks: a killed worker's trial is re-run, and sweeps advanced, within seconds
const workerEnv = { RECONCILE_INTERVAL_MS: '1000', WORKER_LOCK_DURATION_MS: '8000', WORKER_STALLED_INTERVAL_MS: '2000', SHUTDOWN_GRACE_MS: '1000' };
const workers = [startWorkerForApi(api, workerEnv), startWorkerForApi(api, workerEnv)];
after(() => Promise.all(workers.map(killWorker)));
const logs = () => workers.map((w, i) => `--- worker ${i}:\n${w.output().slice(-3000)}`).join('\n');

const upload = await api.http.post('/datasets').attach('file', await makeImageFolderZip({ perClass: 12, size: 32 }), 'shapes.zip').expect(201);
const dataset = { id: upload.body.id as string };
const small = { imageSize: 32, epochs: 2, batchSize: 8, augment: false };

interface Trial {
  jobId: string;
  index: number;
  status: string;
  objective: number | null;
  epochs: number;
  hyperparameters: Record<string, unknown>;
}
interface Sweep {
  id: string;
  status: string;
  trials: Trial[];
  best: { jobId: string; objective: number } | null;
}

async function submit(body: object): Promise<Sweep> {
  const res = await api.http.post('/sweeps').send(body);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body;
}

async function waitForSweep(id: string, until: (s: Sweep) => boolean, timeoutMs = 240_000): Promise<Sweep> {
  const deadline = Date.now() + timeoutMs;
  let sweep: Sweep | undefined;
  while (Date.now() < deadline) {
    sweep = (await api.http.get(`/sweeps/${id}`).expect(200)).body as Sweep;
    if (until(sweep)) return sweep;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`sweep ${id} did not get there in ${timeoutMs} ms; last: ${JSON.stringify(sweep)}\n${logs()}`);
}
const ended = (s: Sweep) => ['succeeded', 'failed', 'cancelled'].includes(s.status);

test('a grid of 4 trials, 2 of which fail, ends succeeded with a leaderboard and a best trial that predicts', async () => {
  const submitted = await submit({
    method: 'fine_tune',
    dataset,
    hyperparameters: small,
    // trainableBlocks 64: more blocks than the backbone has, a failure only the run finds
    search: { algorithm: 'grid', maxTrials: 4, parallelTrials: 2, maxFailedTrials: 3, objective: 'valAccuracy', space: { learningRate: [0.01, 0.003], trainableBlocks: [1, 64] } },
  });
  assert.equal(submitted.trials.length, 2, 'parallelTrials trials at once');
  const sweep = await waitForSweep(submitted.id, ended);
  assert.equal(sweep.status, 'succeeded', JSON.stringify(sweep));
  assert.equal(sweep.trials.length, 4);
  const byStatus = (s: string) => sweep.trials.filter((t) => t.status === s);
  assert.deepEqual(byStatus('failed').map((t) => t.hyperparameters.trainableBlocks), [64, 64]);
  assert.equal(byStatus('succeeded').length, 2);
  // the leaderboard: succeeded trials first, best first
  const [first, second] = sweep.trials;
  assert.equal(first.status, 'succeeded');
  assert.ok(first.objective! >= second.objective!, JSON.stringify(sweep.trials));
  assert.deepEqual(sweep.best, { jobId: first.jobId, objective: first.objective });
  const failed = (await api.http.get(`/jobs/${byStatus('failed')[0].jobId}`).expect(200)).body;
  assert.equal(failed.error.code, 'invalid_hyperparameters', JSON.stringify(failed.error));

  // the best trial is an ordinary succeeded job
  const image = await encodeImage(renderPattern(defaultPatterns[1]!, mulberry32(4), { size: 32 }), 32);
  const predicted = await api.http.post('/predict').field('jobId', sweep.best!.jobId).attach('image', image, 'circle.png');
  assert.equal(predicted.status, 200, JSON.stringify(predicted.body));
  assert.ok(defaultPatterns.slice(0, 2).map((p) => p.name).includes(predicted.body.predictions[0].label));
  const report = await api.http.get(`/sweeps/${sweep.id}/report`).expect(200);
  assert.equal((report.text.match(/<tr data-job=/g) ?? []).length, 4, 'every trial in the leaderboard');
  assert.match(report.text, /id="trial-curves"[\s\S]*data-series="trial 0"/);
});

test('ASHA prunes a trial that cannot learn at its first rung (epoch 2 of 3), keeping its metrics', async () => {
  const submitted = await submit({
    method: 'fine_tune',
    dataset,
    // a random head (no linear probe to start from: the probe already fits these shapes, and the 1e-7 trial then
    // tied the learning one at the rung within ONNX Runtime's run-to-run noise), and batches of 2 so that the
    // learning trial takes enough steps by the rung to be told apart on 5 validation images
    hyperparameters: { ...small, epochs: 3, trainableBlocks: 1, batchSize: 2, linearProbeFirst: false },
    // one at a time, the learning trial first: the other meets its record at the rung
    search: {
      algorithm: 'grid',
      maxTrials: 2,
      parallelTrials: 1,
      objective: 'valLoss',
      space: { learningRate: [0.01, 1e-7] },
      earlyStopping: { type: 'asha', gracePeriod: 2, reductionFactor: 2 },
    },
  });
  const sweep = await waitForSweep(submitted.id, ended);
  assert.equal(sweep.status, 'succeeded', JSON.stringify(sweep));
  const [good, bad] = [...sweep.trials].sort((a, b) => a.index - b.index);
  assert.equal(good.status, 'succeeded', JSON.stringify(sweep.trials));
  assert.equal(bad.status, 'pruned', JSON.stringify(sweep.trials));
  const job = (await api.http.get(`/jobs/${bad.jobId}`).expect(200)).body;
  assert.equal(bad.epochs, 2, `stopped at its first rung: ${job.error?.message}`);
  assert.equal(sweep.best?.jobId, good.jobId);
  assert.equal(job.status, 'cancelled');
  assert.equal(job.error.code, 'pruned');
  assert.match(job.error.message, /ASHA.*epoch 2/);
  const metrics = (await api.http.get(`/jobs/${bad.jobId}/metrics`).expect(200)).body;
  assert.deepEqual(metrics.epochs.map((e: { epoch: number }) => e.epoch), [1, 2]);
});

test('DELETE cancels every unfinished trial and starts no more', async () => {
  const submitted = await submit({
    method: 'fine_tune',
    dataset,
    hyperparameters: { ...small, epochs: 200, earlyStoppingPatience: 0 },
    search: { algorithm: 'grid', maxTrials: 4, parallelTrials: 2, objective: 'valAccuracy', space: { learningRate: [0.01, 0.003, 0.001, 0.0003] } },
  });
  await waitForSweep(submitted.id, (s) => s.trials.some((t) => t.epochs > 0));
  const cancelled = (await api.http.delete(`/sweeps/${submitted.id}`).expect(200)).body as Sweep;
  assert.equal(cancelled.status, 'cancelled');
  const sweep = await waitForSweep(submitted.id, (s) => s.trials.every((t) => !['queued', 'running'].includes(t.status)));
  assert.deepEqual(sweep.trials.map((t) => t.status), ['cancelled', 'cancelled'], JSON.stringify(sweep.trials));
  assert.equal(sweep.status, 'cancelled');
  assert.ok(workers.every((w) => w.child.exitCode === null), 'the workers survive');
});

test('a worker killed mid-sweep (SIGKILL) does not keep the sweep from succeeding', async () => {
  const submitted = await submit({
    method: 'fine_tune',
    dataset,
    // enough epochs that the trial is still training when its worker is killed after its first epoch
    hyperparameters: { ...small, epochs: 12, earlyStoppingPatience: 0, trainableBlocks: 1 },
    search: { algorithm: 'grid', maxTrials: 3, parallelTrials: 2, objective: 'valLoss', space: { learningRate: [0.01, 0.003, 0.001] } },
  });
  // a trial that trains, and the worker that took it
  const training = await waitForSweep(submitted.id, (s) => s.trials.some((t) => t.status === 'running' && t.epochs > 0));
  const victim = training.trials.find((t) => t.status === 'running' && t.epochs > 0)!.jobId;
  const holder = workers.find((w) => w.output().split('\n').some((l) => l.includes(`"jobId":"${victim}"`) && l.includes('"msg":"job taken"')));
  assert.ok(holder, `a worker logged taking ${victim}\n${logs()}`);
  await killWorker(holder);
  const killed = await api.db.prisma.job.findUniqueOrThrow({ where: { id: victim } });
  assert.equal(killed.status, 'running', 'killed while its trial trained');

  const sweep = await waitForSweep(submitted.id, ended);
  assert.equal(sweep.status, 'succeeded', JSON.stringify(sweep));
  assert.deepEqual(sweep.trials.map((t) => t.status), ['succeeded', 'succeeded', 'succeeded']);
  const row = await api.db.prisma.job.findUniqueOrThrow({ where: { id: victim } });
  assert.equal(row.attempts, 2, 'the killed trial ran again on the other worker');
});

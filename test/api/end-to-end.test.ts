// The whole service through HTTP: an uploaded ImageFolder zip trained by a real worker process with the
// real engine (tiny images, few epochs), followed over server-sent events; and a running job cancelled
// by DELETE. The worker's own behaviour (bad datasets, crashes) is tested in test/service-core.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPatterns, makeImageFolderZip } from '../support/images.ts';
import { startTestApi } from '../support/api.ts';
import { startWorkerForApi } from '../support/api-worker.ts';
import { killWorker } from '../support/service.ts';
import { followEvents, type StreamEvent } from '../support/sse.ts';

const api = await startTestApi();
const worker = startWorkerForApi(api);
after(() => killWorker(worker));

const small = { imageSize: 32, epochs: 2, batchSize: 8, seed: 1, trainableBlocks: 1, augment: false };

/** The job's events until the server ends the stream (at the job's end). */
async function eventsOf(jobId: string, onEvent?: (e: StreamEvent) => void): Promise<StreamEvent[]> {
  const { status, contentType, events } = await followEvents(`${api.url}/jobs/${jobId}/events`, api.headers, onEvent).done;
  assert.equal(status, 200);
  assert.equal(contentType, 'text/event-stream');
  return events;
}

test('an uploaded ImageFolder zip trains: queued -> running -> succeeded, epochs and evaluation in /metrics', async () => {
  const zip = await makeImageFolderZip({ perClass: 8, size: 32 });
  const upload = await api.http.post('/datasets').attach('file', zip, 'shapes.zip').expect(201);
  const submitted = await api.http.post('/jobs').send({ method: 'fine_tune', dataset: { id: upload.body.id }, hyperparameters: small });
  assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
  const jobId: string = submitted.body.id;

  const events = await eventsOf(jobId);
  const statuses = events.filter((e) => e.event === 'job').map((e) => e.data.status).filter((s, i, all) => s !== all[i - 1]);
  assert.deepEqual(statuses.slice(-2), ['running', 'succeeded'], `statuses ${statuses}; worker output:\n${worker.output().slice(-3000)}`);
  assert.ok(['queued', 'running'].includes(statuses[0] as string));
  const progress = events.filter((e) => e.event === 'job' && e.data.status === 'running').map((e) => e.data.progress as number);
  assert.ok(progress.some((p) => p > 0 && p < 1), `progress was reported while running: ${progress}`);
  assert.deepEqual(events.filter((e) => e.event === 'epoch').map((e) => e.data.epoch), [1, 2]);

  const job = (await api.http.get(`/jobs/${jobId}`).expect(200)).body;
  assert.equal(job.status, 'succeeded');
  assert.deepEqual(job.classes, defaultPatterns.slice(0, 2).map((p) => p.name).sort());
  assert.ok(job.startedAt && job.finishedAt);
  assert.equal(job.error, null);

  const metrics = (await api.http.get(`/jobs/${jobId}/metrics`).expect(200)).body;
  assert.equal(metrics.status, 'succeeded');
  assert.deepEqual(metrics.epochs.map((e: { epoch: number }) => e.epoch), [1, 2]);
  for (const e of metrics.epochs) assert.ok(Number.isFinite(e.loss), `epoch ${e.epoch} has a loss`);
  assert.ok(metrics.evaluation, 'an evaluation once the job succeeded');
  assert.ok(metrics.evaluation.accuracy >= 0 && metrics.evaluation.accuracy <= 1);
  assert.deepEqual([...metrics.evaluation.confusionMatrix.labels].sort(), [...job.classes].sort());
  // the served weights are the starting probe's (0) or an epoch's: with validation losses the lowest one's, else the last
  const served: number = metrics.evaluation.servedEpoch;
  const valLosses: (number | null)[] = metrics.epochs.map((e: { valLoss: number | null }) => e.valLoss);
  assert.ok(Number.isInteger(served) && served >= 0 && served <= 2, `servedEpoch ${served}`);
  if (valLosses.includes(null)) assert.equal(served, 2);
  else if (served > 0) assert.equal(valLosses[served - 1], Math.min(...(valLosses as number[])));
  // no validation set given: the probe, when served, is refitted on all 16 labelled images; trained epochs are not
  const heldOut = metrics.evaluation.confusionMatrix.matrix.flat().reduce((a: number, b: number) => a + b, 0);
  const split = !valLosses.includes(null);
  const refit = served === 0 && split;
  assert.deepEqual({ ...metrics.evaluation.servedFit, C: undefined }, { images: refit || !split ? 16 : 16 - heldOut, refit, C: undefined }, JSON.stringify(metrics.evaluation.servedFit));
  assert.equal(typeof metrics.evaluation.servedFit.C, refit ? 'number' : 'undefined');
  // where the time went, stage by stage in order
  const stages = metrics.stages.map((st: { stage: string }) => st.stage);
  for (const st of ['queued', 'dataset: download', 'dataset: extract and check', 'features', 'training', 'evaluating', 'saving']) assert.ok(stages.includes(st), `${st} in ${stages}`);
  assert.ok(stages.indexOf('features') < stages.indexOf('training') && stages.indexOf('training') < stages.indexOf('saving'), `${stages}`);
  assert.ok(metrics.stages.every((st: { seconds: number }) => st.seconds >= 0));
});

test('DELETE of a running job ends it cancelled at the next batch', async () => {
  const zip = await makeImageFolderZip({ perClass: 16, size: 32, seed: 2 });
  const upload = await api.http.post('/datasets').attach('file', zip, 'long.zip').expect(201);
  const long = { ...small, epochs: 200, earlyStoppingPatience: 0 };
  const { body: job } = await api.http.post('/jobs').send({ method: 'fine_tune', dataset: { id: upload.body.id }, hyperparameters: long }).expect(202);

  let requested = 0;
  let cancelStatus = 0;
  const cancelling: Promise<unknown>[] = [];
  const events = await eventsOf(job.id, ({ event }) => {
    // Cancel once training is under way (an epoch has finished).
    if (event === 'epoch' && !requested) {
      requested = Date.now();
      cancelling.push(api.http.delete(`/jobs/${job.id}`).then((res) => (cancelStatus = res.status)));
    }
  });
  await Promise.all(cancelling);
  assert.ok(requested, `training started; worker output:\n${worker.output().slice(-3000)}`);
  assert.equal(cancelStatus, 202, 'a running job is cancelled by its worker, asynchronously');
  const last = events.at(-1)!;
  assert.equal(last.event, 'job');
  assert.equal(last.data.status, 'cancelled');
  assert.ok(Date.now() - requested < 30_000, `stopped ${Date.now() - requested} ms after DELETE`);
  assert.ok(events.filter((e) => e.event === 'epoch').length < long.epochs);
  assert.equal(worker.child.exitCode, null, 'the worker survives');
});

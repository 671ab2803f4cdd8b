// The whole service through HTTP: an uploaded ImageFolder zip trained by a real worker process with the
// real engine (tiny images, few epochs), followed over server-sent events; and a running job cancelled
// by DELETE. The worker's own behaviour (bad datasets, crashes) is tested in test/service-core.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { defaultPatterns, makeImageFolderZip } from '../support/images.ts';
import { startTestApi } from '../support/api.ts';
import { startWorkerForApi } from '../support/api-worker.ts';
import { killWorker } from '../support/service.ts';

const api = await startTestApi();
const worker = startWorkerForApi(api);
after(() => killWorker(worker));

const small = { imageSize: 32, epochs: 2, batchSize: 8, seed: 1, trainableBlocks: 1, augment: false };

/** Follows GET /jobs/:id/events until the server closes it; returns the events in order. */
function followEvents(jobId: string, onEvent: (event: string, data: Record<string, unknown>) => void = () => undefined) {
  return new Promise<{ event: string; data: Record<string, unknown> }[]>((resolve, reject) => {
    const events: { event: string; data: Record<string, unknown> }[] = [];
    const req = http.get(`${api.url}/jobs/${jobId}/events`, (res) => {
      assert.equal(res.headers['content-type'], 'text/event-stream');
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (!event || !data) continue;
          const parsed = { event, data: JSON.parse(data) as Record<string, unknown> };
          events.push(parsed);
          onEvent(parsed.event, parsed.data);
        }
      });
      res.on('end', () => resolve(events));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(180_000, () => req.destroy(new Error(`no end of the event stream of job ${jobId} within 180 s; worker output:\n${worker.output().slice(-3000)}`)));
  });
}

test('an uploaded ImageFolder zip trains: queued -> running -> succeeded, epochs and evaluation in /metrics', async () => {
  const zip = await makeImageFolderZip({ perClass: 8, size: 32 });
  const upload = await api.http.post('/datasets').attach('file', zip, 'shapes.zip').expect(201);
  const submitted = await api.http.post('/jobs').send({ method: 'fine_tune', dataset: { id: upload.body.id }, hyperparameters: small });
  assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
  const jobId: string = submitted.body.id;

  const events = await followEvents(jobId);
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
});

test('DELETE of a running job ends it cancelled at the next batch', async () => {
  const zip = await makeImageFolderZip({ perClass: 16, size: 32, seed: 2 });
  const upload = await api.http.post('/datasets').attach('file', zip, 'long.zip').expect(201);
  const long = { ...small, epochs: 200, earlyStoppingPatience: 0 };
  const { body: job } = await api.http.post('/jobs').send({ method: 'fine_tune', dataset: { id: upload.body.id }, hyperparameters: long }).expect(202);

  let requested = 0;
  let cancelStatus = 0;
  const cancelling: Promise<unknown>[] = [];
  const events = await followEvents(job.id, (event) => {
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

// GET /jobs/:id/events over real HTTP: state, progress and epochs arrive as server-sent events and
// the stream ends when the job does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jobLifecycle } from '@graft/db';
import { startTestApi } from '../support/api.ts';
import { followEvents } from '../support/sse.ts';

const api = await startTestApi();

const until = async (cond: () => boolean, what: string) => {
  const deadline = Date.now() + 15_000; // generous: CI machines can be loaded
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

test('the stream delivers queued -> running -> progress -> epochs -> succeeded, then closes', async () => {
  const { body: job } = await api.http.post('/jobs').send({ method: 'fine_tune', dataset: { url: 'https://x/d.zip' } }).expect(202);
  await api.queue.remove(job.id); // no worker in this file: the lifecycle plays its part
  const stream = followEvents(`${api.url}/jobs/${job.id}/events`, api.headers);
  await stream.firstEvent;
  const jobEvents = () => stream.events.filter((e) => e.event === 'job').map((e) => e.data);
  assert.equal(jobEvents()[0]?.status, 'queued');

  const db = api.db.prisma;
  await jobLifecycle.markRunning(db, job.id);
  await until(() => jobEvents().some((j) => j.status === 'running'), 'running');
  await jobLifecycle.recordProgress(db, job.id, 0.4, 'training');
  await until(() => jobEvents().some((j) => j.progress === 0.4 && j.stage === 'training'), 'progress');
  await jobLifecycle.recordEpoch(db, job.id, { epoch: 1, loss: 0.7, accuracy: 0.6, valLoss: null, valAccuracy: null });
  await jobLifecycle.recordEpoch(db, job.id, { epoch: 2, loss: 0.4, accuracy: 0.8, valLoss: null, valAccuracy: null });
  await jobLifecycle.markSucceeded(db, job.id, { checkpointKey: `jobs/${job.id}/model`, classes: ['a', 'b'] });

  const { status, contentType } = await stream.done; // the server closes the stream once the job ended
  assert.equal(status, 200);
  assert.equal(contentType, 'text/event-stream');
  const epochs = stream.events.filter((e) => e.event === 'epoch').map((e) => e.data.epoch);
  assert.deepEqual(epochs, [1, 2]);
  const last = stream.events.at(-1)!;
  assert.equal(last.event, 'job');
  assert.equal(last.data.status, 'succeeded');
  assert.deepEqual(last.data.classes, ['a', 'b']);
  const statuses = jobEvents().map((j) => j.status).filter((s, i, all) => s !== all[i - 1]);
  assert.deepEqual(statuses, ['queued', 'running', 'succeeded']);
});

test('a stream on a job that already ended sends its final state and closes; an unknown job is 404', async () => {
  const { body: job } = await api.http.post('/jobs').send({ method: 'fine_tune', dataset: { url: 'https://x/d.zip' } }).expect(202);
  await api.http.delete(`/jobs/${job.id}`).expect(200);
  const stream = followEvents(`${api.url}/jobs/${job.id}/events`, api.headers);
  assert.equal((await stream.done).status, 200);
  assert.deepEqual(stream.events.map((e) => [e.event, e.data.status]), [['job', 'cancelled']]);

  const res = await api.http.get('/jobs/00000000-0000-4000-8000-000000000000/events');
  assert.equal(res.status, 404);
  assert.equal(res.body.error.code, 'not_found');
});

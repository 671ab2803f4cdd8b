// POST /jobs/preview over real HTTP: the hyper-parameters a job would train with, chosen from an uploaded
// dataset as the worker chooses them, and exactly what the job then records once a real worker ran it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeImageFolderZip } from '../support/images.ts';
import { startTestApi } from '../support/api.ts';
import { startWorkerForApi } from '../support/api-worker.ts';
import { killWorker, waitForJob, isTerminal } from '../support/service.ts';

const api = await startTestApi();
const worker = startWorkerForApi(api);
after(() => killWorker(worker));

const upload = await api.http.post('/datasets').attach('file', await makeImageFolderZip({ perClass: 8, size: 32 }), 'shapes.zip').expect(201);
const dataset = { id: upload.body.id as string };

test('the preview of a job on an upload is what the job records when it runs', async () => {
  // epochs and the rest left to the defaults: the data decides them
  const spec = { method: 'fine_tune', dataset, hyperparameters: { imageSize: 32, batchSize: 8, seed: 4, trainableBlocks: 1, augment: false } };
  const preview = await api.http.post('/jobs/preview').send(spec);
  assert.equal(preview.status, 200, JSON.stringify(preview.body));
  assert.deepEqual(preview.body.decidedAtStart, []);
  const hp = preview.body.resolvedHyperparameters;
  assert.deepEqual(hp.imageSize, { value: 32, why: 'set by you' });
  assert.match(hp.epochs.why, /16 labelled images/, 'the reason names what in the data chose it');

  const submitted = await api.http.post('/jobs').send(spec).expect(202);
  const job = await waitForJob(api.db.prisma, submitted.body.id, isTerminal, 120_000, [worker]);
  assert.equal(job.status, 'succeeded', job.errorMessage ?? '');
  const view = await api.http.get(`/jobs/${job.id}`).expect(200);
  assert.deepEqual(view.body.resolvedHyperparameters, hp);
});

test('the upload summary gives the images\' size the preview sized them by', async () => {
  const summary = await api.http.get(`/datasets/${dataset.id}/summary`).expect(200);
  assert.equal(summary.body.medianSide, 32);
});

test('without a seed the preview says it is drawn per job; data given by URL leaves its choices to the job', async () => {
  const own = await api.http.post('/jobs/preview').send({ method: 'feature_extraction', dataset }).expect(200);
  assert.deepEqual(own.body.decidedAtStart, ['seed']);
  assert.equal(own.body.resolvedHyperparameters.seed, undefined);
  assert.equal(own.body.resolvedHyperparameters.trainableBlocks.value, 0);

  // never downloaded: a preview reads uploads only
  const byUrl = await api.http.post('/jobs/preview').send({ method: 'fine_tune', dataset: { url: 'https://datasets.example/shapes.zip' }, hyperparameters: { seed: 1 } }).expect(200);
  assert.deepEqual([...byUrl.body.decidedAtStart].sort(), ['backbone', 'epochs', 'imageSize', 'trainableBlocks']);
  for (const k of byUrl.body.decidedAtStart) assert.equal(byUrl.body.resolvedHyperparameters[k], undefined);
  assert.equal(byUrl.body.resolvedHyperparameters.batchSize.value, 32);
  // the backbone of feature_extraction and fine_tune depends on how many labelled images there are: by URL the job picks it
  const feByUrl = await api.http.post('/jobs/preview').send({ method: 'feature_extraction', dataset: { url: 'https://datasets.example/shapes.zip' }, hyperparameters: { seed: 1 } }).expect(200);
  // and whether its probe judges mirrored views (up to 1,000 labelled images)
  assert.deepEqual([...feByUrl.body.decidedAtStart].sort(), ['backbone', 'epochs', 'flipViews', 'imageSize', 'trainableBlocks']);
  assert.equal(own.body.resolvedHyperparameters.backbone.value, 'inception_v3', 'on the 16 uploaded images');
  const tuned = await api.http.post('/jobs/preview').send({ method: 'fine_tune', dataset, hyperparameters: { seed: 1 } }).expect(200);
  assert.deepEqual(tuned.body.decidedAtStart, []);
  assert.equal(tuned.body.resolvedHyperparameters.backbone.value, 'inception_v3', 'fine_tune on the 16 uploaded images');
  assert.match(tuned.body.resolvedHyperparameters.backbone.why, /16 labelled images/);
  // a GPU worker trains MobileNetV2 instead (TF.js has no gradient for InceptionV3's BatchNorms): the why says so
  assert.match(tuned.body.resolvedHyperparameters.backbone.why, /On a worker that trains blocks on TF\.js \(GPU, GRAFT_ONNX=off\): mobilenet_v2 \(MobileNetV2, the default: this worker trains blocks on TF\.js/);
  assert.doesNotMatch(own.body.resolvedHyperparameters.backbone.why, /TF\.js/, 'feature_extraction trains no blocks: one backbone on every worker');
  assert.deepEqual([tuned.body.resolvedHyperparameters.imageSize.value, tuned.body.resolvedHyperparameters.trainableBlocks.value], [224, 2]);
  // DANN's backbone does not depend on the data: known by URL too
  const dannByUrl = await api.http.post('/jobs/preview').send({ method: 'domain_adaptation', dataset: { url: 'https://datasets.example/t.zip' }, source: { url: 'https://datasets.example/s.zip' }, hyperparameters: { seed: 1 } }).expect(200);
  assert.ok(!dannByUrl.body.decidedAtStart.includes('backbone'));
  assert.equal(dannByUrl.body.resolvedHyperparameters.backbone.value, 'mobilenet_v2');
});

test('a spec POST /jobs would refuse is refused alike, and so is one the engine would fail', async () => {
  const noSource = await api.http.post('/jobs/preview').send({ method: 'multi_task', dataset });
  assert.equal(noSource.status, 400);
  assert.equal(noSource.body.error.details.field, 'source');
  const frozen = await api.http.post('/jobs/preview').send({ method: 'feature_extraction', dataset, hyperparameters: { trainableBlocks: 2 } });
  assert.equal(frozen.status, 400);
  assert.equal(frozen.body.error.code, 'invalid_hyperparameters');
  const other = await api.createTenant();
  const foreign = await api.as(other.key).post('/jobs/preview').send({ method: 'fine_tune', dataset });
  assert.equal(foreign.status, 400, 'another tenant\'s upload is unknown to this one');
  assert.equal(foreign.body.error.details.field, 'dataset.id');
});

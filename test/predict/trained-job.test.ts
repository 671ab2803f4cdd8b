// A feature_extraction job trained by a real worker: its model, as downloaded, opens with
// tf.loadLayersModel and /predict answers with it (fine_tune is covered by the CLI and typed-client tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { startTestApi } from '../support/api.ts';
import { startWorkerForApi } from '../support/api-worker.ts';
import { killWorker, waitForJob, isTerminal } from '../support/service.ts';
import { defaultPatterns, encodeImage, makeImageFolderZip, mulberry32, renderPattern } from '../support/images.ts';

const api = await startTestApi();

test('a trained feature_extraction job serves its model through /predict and as a loadable zip', async () => {
  const worker = startWorkerForApi(api);
  try {
    const zip = await makeImageFolderZip({ patterns: defaultPatterns.slice(0, 2), perClass: 8, size: 40 });
    const upload = await api.http.post('/datasets').attach('file', zip, 'data.zip').expect(201);
    const submitted = await api.http
      .post('/jobs')
      .send({ method: 'feature_extraction', dataset: { id: upload.body.id }, hyperparameters: { imageSize: 32, seed: 1 } })
      .expect(202);
    const job = await waitForJob(api.db.prisma, submitted.body.id, isTerminal, 180_000);
    assert.equal(job.status, 'succeeded', `${job.errorCode}: ${job.errorMessage}`);

    // every hyperparameter the job trained with, each with why: the user's, the data's, or the default
    const view = await api.http.get(`/jobs/${job.id}`).expect(200);
    const resolved = view.body.resolvedHyperparameters;
    assert.deepEqual(resolved.imageSize, { value: 32, why: 'set by you' });
    assert.deepEqual(resolved.seed, { value: 1, why: 'set by you' });
    assert.equal(resolved.features.value, 'block_ends');
    assert.equal(resolved.trainableBlocks.value, 0);
    for (const [k, c] of Object.entries(resolved) as [string, { why: string }][]) assert.ok(c.why.length > 0, `${k} has a reason`);

    // the checkpoint must open in plain TF.js (weight names matching the topology)
    const files = new Map<string, Buffer>();
    for (const name of ['model.json', 'weights.bin']) files.set(name, await api.app.predictor.cache.get(job.id).then((m) => m.checkpoint.files.get(name)!));
    const modelJson = JSON.parse(files.get('model.json')!.toString());
    const weightData = new Uint8Array(files.get('weights.bin')!).buffer;
    const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0].weights, weightData }));
    model.dispose();

    // the worker exported the ONNX file once, beside the checkpoint; the download hands out those bytes
    const stored = (await api.app.predictor.cache.get(job.id)).checkpoint.files.get('model.onnx');
    assert.ok(stored && stored.length > 0, 'model.onnx stored with the checkpoint');
    const onnx = await api.http.get(`/jobs/${job.id}/model?format=onnx`).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    }).expect(200);
    assert.ok(Buffer.compare(onnx.body as Buffer, stored) === 0, 'downloaded ONNX equals the stored export');

    const image = await encodeImage(renderPattern(defaultPatterns[1]!, mulberry32(4), { size: 40 }), 40);
    const res = await api.http.post('/predict').field('jobId', job.id).attach('image', image, 'circle.png').expect(200);
    assert.equal(res.body.predictions[0].label, defaultPatterns[1]!.name);
  } finally {
    await killWorker(worker);
  }
});

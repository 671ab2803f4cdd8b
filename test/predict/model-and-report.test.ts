// What a user takes away from a succeeded job: the model file (TF.js zip, ONNX) that gives the same
// predictions as /predict outside Graft, and the report page.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import yauzl from 'yauzl';
import { decodeBatch } from '@graft/serving';
import { startTestApi, type TestApi } from '../support/api.ts';
import { seedServedJob, type ServedJob } from '../support/served-job.ts';
import { defaultPatterns, encodeImage, mulberry32, renderPattern } from '../support/images.ts';
import { serveBuffer, startServer } from '../support/http-server.ts';

let job: ServedJob;
let images: Buffer[];
let served: number[][];

const binary = (stream: NodeJS.ReadableStream, cb: (body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => cb(Buffer.concat(chunks)));
};

async function download(path: string): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const res = await fetch(api.url + path, { headers: api.headers });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

function unzip(zip: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    const files = new Map<string, Buffer>();
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, archive) => {
      if (err || !archive) return reject(err);
      archive.on('entry', (entry: yauzl.Entry) => {
        archive.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e);
          binary(stream, (body) => {
            files.set(entry.fileName, body);
            archive.readEntry();
          });
        });
      });
      archive.on('end', () => resolve(files));
      archive.readEntry();
    });
  });
}

const api: TestApi = await startTestApi();

before(async () => {
  job = await seedServedJob(api, { seed: 11 });
  const rand = mulberry32(5);
  images = await Promise.all([0, 1, 2].map((i) => encodeImage(renderPattern(defaultPatterns[i]!, rand, { size: 40 }), 40)));
  const res = await api.http.post('/predict').send({ jobId: job.id, images: images.map((b) => b.toString('base64')), topK: 3 }).expect(200);
  // full score rows in label order, from /predict's ranked top-k
  served = res.body.predictions.map((p: { topK: { label: string; score: number }[] }) => job.labels.map((l) => p.topK.find((t) => t.label === l)!.score));
});

test('the model zip opens with tf.loadLayersModel from a plain web server and predicts what /predict predicts', async () => {
  const res = await download(`/jobs/${job.id}/model`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/zip');
  assert.match(res.headers.get('content-disposition')!, /attachment; filename="graft-.*\.zip"/);
  const files = await unzip(res.body);
  assert.deepEqual([...files.keys()].sort(), ['metadata.json', 'model.json', 'weights.bin']);
  const metadata = JSON.parse(files.get('metadata.json')!.toString());
  assert.deepEqual(metadata.labels, job.labels);

  const server = await startServer(Object.fromEntries([...files].map(([name, bytes]) => [`/m/${name}`, serveBuffer(bytes)])));
  try {
    const model = await tf.loadLayersModel(server.url('/m/model.json'));
    const size = metadata.preprocessing.imageSize;
    const pixels = await decodeBatch(images, metadata.preprocessing, { maxImagePixels: 1e7 });
    const out = tf.tidy(() => (model.predict(tf.tensor4d(pixels, [images.length, size, size, 3])) as tf.Tensor).arraySync() as number[][]);
    out.forEach((row, i) => row.forEach((v, c) => assert.ok(Math.abs(v - served[i]![c]!) < 1e-4, `image ${i} class ${c}: ${v} vs ${served[i]![c]}`)));
    model.dispose();
  } finally {
    await server.close();
  }
});

test('format=onnx gives an ONNX file that ONNX Runtime runs to the same predictions', async () => {
  const res = await download(`/jobs/${job.id}/model?format=onnx`);
  assert.equal(res.status, 200);
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(new Uint8Array(res.body));
  const size = job.imageSize;
  const pixels = await decodeBatch(images, { imageSize: size, pixelRange: [0, 1], resize: 'cover' }, { maxImagePixels: 1e7 });
  const input = new ort.Tensor('float32', pixels, [images.length, size, size, 3]);
  const result = await session.run({ [session.inputNames[0]!]: input });
  const probs = result[session.outputNames[0]!]!.data as Float32Array;
  served.forEach((row, i) => row.forEach((v, c) => assert.ok(Math.abs(probs[i * row.length + c]! - v) < 1e-4)));
  await session.release();
});

test('the model of a job that has not succeeded, or does not exist, is refused', async () => {
  const running = await seedServedJob(api, { status: 'running' });
  let res = await api.http.get(`/jobs/${running.id}/model`).expect(409);
  assert.equal(res.body.error.code, 'conflict');
  res = await api.http.get(`/jobs/${randomUUID()}/model`).expect(404);
  assert.equal(res.body.error.code, 'not_found');
  res = await api.http.get(`/jobs/${job.id}/model?format=pt`).expect(400);
  assert.match(res.body.error.message, /format/);
});

test('the report page shows the curves, the confusion matrix and the per-class table, self-contained', async () => {
  const res = await api.http.get(`/jobs/${job.id}/report`).expect(200);
  assert.match(res.headers['content-type'], /^text\/html/);
  const html = res.text;
  for (const id of ['loss-curve', 'accuracy-curve', 'confusion-matrix', 'per-class']) assert.ok(html.includes(`id="${id}"`), id);
  for (const series of ['train loss', 'val loss', 'train accuracy', 'val accuracy']) assert.ok(html.includes(`<polyline`) && html.includes(`data-series="${series}"`), series);
  assert.equal((html.match(/<rect [^>]*data-row=/g) ?? []).length, 9, 'a 3×3 heat map');
  for (const label of job.labels) assert.ok(html.includes(`<td>${label}</td>`), label);
  assert.ok(!/<script|<link|src=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/.test(html), 'no scripts, no external resources');
});

test('the report of a running job shows its curves so far; an unknown job is a 404', async () => {
  const running = await seedServedJob(api, { status: 'running' });
  const res = await api.http.get(`/jobs/${running.id}/report`).expect(200);
  assert.ok(res.text.includes('id="loss-curve"'));
  assert.match(res.text, /No evaluation yet/);
  await api.http.get(`/jobs/${randomUUID()}/report`).expect(404);
});

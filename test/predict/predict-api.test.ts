// POST /predict over real HTTP against the real app (Postgres, storage, inference threads), with a
// small real TF.js checkpoint seeded as a succeeded job.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { decodeBatch } from '@graft/serving';
import { startTestApi, type TestApi } from '../support/api.ts';
import { seedServedJob, type ServedJob } from '../support/served-job.ts';
import { defaultPatterns, encodeImage, mulberry32, renderPattern } from '../support/images.ts';
import { serveBuffer, startServer } from '../support/http-server.ts';

let job: ServedJob;
let images: Buffer[];

/** What the checkpoint's own TF.js model says for these images, decoded the way training decodes. */
async function expectedScores(bytes: Buffer[]): Promise<number[][]> {
  const size = job.imageSize;
  const pixels = await decodeBatch(bytes, { imageSize: size, pixelRange: [0, 1], resize: 'cover' }, { maxImagePixels: 1e7 });
  const input = tf.tensor4d(pixels, [bytes.length, size, size, 3]);
  const out = tf.tidy(() => (job.model.predict(input) as tf.Tensor).arraySync() as number[][]);
  input.dispose();
  return out;
}

// the image server is on loopback, which the fetcher refuses unless the operator admits it
process.env.FETCH_ALLOW = '127.0.0.1';
const api: TestApi = await startTestApi();

before(async () => {
  job = await seedServedJob(api);
  const rand = mulberry32(3);
  images = await Promise.all(
    [0, 1, 2, 3].map((i) => encodeImage(renderPattern(defaultPatterns[i]!, rand, { size: 48 }), 48, (['png', 'jpeg', 'webp', 'png'] as const)[i]!)),
  );
});

test('JSON: base64 strings, { base64 } and { url } images get predictions in input order with ranked top-k', async () => {
  const server = await startServer({ '/cat.png': serveBuffer(images[2]!, 'image/png') });
  try {
    const res = await api.http
      .post('/predict')
      .send({ jobId: job.id, images: [images[0]!.toString('base64'), { base64: images[1]!.toString('base64') }, { url: server.url('/cat.png') }], topK: 2 })
      .expect(200);
    assert.equal(res.body.jobId, job.id);
    assert.equal(res.body.predictions.length, 3);
    const expected = await expectedScores(images.slice(0, 3));
    res.body.predictions.forEach((p: { label: string; score: number; topK: { label: string; score: number }[] }, i: number) => {
      const row = expected[i]!;
      const best = row.indexOf(Math.max(...row));
      assert.equal(p.label, job.labels[best], `image ${i}`);
      assert.ok(Math.abs(p.score - row[best]!) < 1e-4, `image ${i}: score ${p.score} vs ${row[best]}`);
      assert.equal(p.topK.length, 2);
      assert.deepEqual(p.topK[0], { label: p.label, score: p.score });
      assert.ok(p.topK[0]!.score >= p.topK[1]!.score);
    });
  } finally {
    await server.close();
  }
});

test('multipart: a jobId field and image files', async () => {
  const res = await api.http
      .post('/predict')
    .field('jobId', job.id)
    .field('topK', '3')
    .attach('image', images[3]!, 'a.png')
    .attach('image', images[0]!, 'b.png')
    .expect(200);
  assert.equal(res.body.predictions.length, 2);
  const expected = await expectedScores([images[3]!, images[0]!]);
  res.body.predictions.forEach((p: { score: number; topK: unknown[] }, i: number) => {
    assert.ok(Math.abs(p.score - Math.max(...expected[i]!)) < 1e-4);
    assert.equal(p.topK.length, 3);
  });
});

test('a batch of 40 images is answered in order, and the model was loaded from storage only once', async () => {
  const batch = Array.from({ length: 40 }, (_, i) => images[i % 4]!.toString('base64'));
  const res = await api.http.post('/predict').send({ jobId: job.id, images: batch }).expect(200);
  assert.equal(res.body.predictions.length, 40);
  for (let i = 4; i < 40; i++) assert.deepEqual(res.body.predictions[i], res.body.predictions[i % 4]);
  assert.equal(res.body.predictions[0].topK.length, 3, 'default topK is min(3, classes)');
  // concurrent requests share the loaded model
  await Promise.all(Array.from({ length: 8 }, () => api.http.post('/predict').send({ jobId: job.id, images: [batch[0]] }).expect(200)));
  assert.equal(api.app.predictor.cache.loadCount(job.id), 1);
});

test('refusals name what is wrong', async () => {
  const b64 = images[0]!.toString('base64');
  const refuse = async (body: object, status: number, code: string, mentions: RegExp) => {
    const res = await api.http.post('/predict').send(body).expect(status);
    assert.equal(res.body.error.code, code, JSON.stringify(res.body));
    assert.match(res.body.error.message, mentions);
  };
  await refuse({ jobId: randomUUID(), images: [b64] }, 404, 'not_found', /No job/);
  await refuse({ jobId: 'not-a-job', images: [b64] }, 404, 'not_found', /not-a-job/);
  const running = await seedServedJob(api, { status: 'running' });
  await refuse({ jobId: running.id, images: [b64] }, 409, 'conflict', /running/);
  const failed = await seedServedJob(api, { status: 'failed' });
  await refuse({ jobId: failed.id, images: [b64] }, 409, 'conflict', /failed/);
  await refuse({ jobId: job.id, images: [b64, Buffer.from('this is not an image').toString('base64')] }, 400, 'validation_error', /images\[1\]/);
  await refuse({ jobId: job.id, images: [b64, '%%%not base64%%%'] }, 400, 'validation_error', /images\[1\]/);
  await refuse({ jobId: job.id, images: [{ url: 'file:///etc/passwd' }] }, 400, 'url_not_allowed', /images\[0\].*http/);
  await refuse({ jobId: job.id, images: [{ url: 'ftp://example.com/a.png' }] }, 400, 'url_not_allowed', /images\[0\]/);
  // internal addresses, whatever the notation; the loopback one is never reached
  let hits = 0;
  const server = await startServer({ '/cat.png': (req, res) => (hits++, serveBuffer(images[0]!, 'image/png')(req, res)) });
  const port = new URL(server.url('/')).port;
  delete process.env.FETCH_ALLOW;
  try {
    for (const host of ['127.0.0.1', '2130706433', '[::ffff:127.0.0.1]', 'localhost', '169.254.169.254', '10.0.0.1', '[fd00::1]']) {
      await refuse({ jobId: job.id, images: [b64, { url: `http://${host}:${port}/cat.png` }] }, 400, 'url_not_allowed', /images\[1\]\.url: .*not a public address.*FETCH_ALLOW/);
    }
    assert.equal(hits, 0);
  } finally {
    process.env.FETCH_ALLOW = '127.0.0.1';
    await server.close();
  }
  await refuse({ jobId: job.id, images: Array(65).fill(b64) }, 413, 'payload_too_large', /at most 64/);
  await refuse({ jobId: job.id, images: [b64], topK: 4 }, 400, 'validation_error', /topK.*3/);
  await refuse({ jobId: job.id, images: [] }, 400, 'validation_error', /images/);
  await refuse({ jobId: job.id, images: [b64], extra: 1 }, 400, 'validation_error', /extra/);
  await refuse({ images: [b64] }, 400, 'validation_error', /jobId/);

  // 25.5 Mpx, over the default 25 Mpx per image: refused before it is decoded at full size
  const huge = await sharp({ create: { width: 5100, height: 5000, channels: 3, background: '#808080' } }).png().toBuffer();
  await refuse({ jobId: job.id, images: [b64, huge.toString('base64')] }, 400, 'image_too_large', /images\[1\]/);
});

test('refusals: multipart without jobId or files, other media types, oversized images', async () => {
  let res = await api.http.post('/predict').attach('image', images[0]!, 'a.png').expect(400);
  assert.match(res.body.error.message, /jobId/);
  res = await api.http.post('/predict').field('jobId', job.id).expect(400);
  assert.match(res.body.error.message, /image file/);
  res = await api.http.post('/predict').set('content-type', 'text/plain').send('hello').expect(415);
  assert.equal(res.body.error.code, 'unsupported_media_type');
  // over the default 10 MiB per image, as a file and as base64
  const big = Buffer.alloc(10 * 1024 * 1024 + 1, 7);
  res = await api.http.post('/predict').field('jobId', job.id).attach('image', images[0]!, 'ok.png').attach('image', big, 'big.png').expect(413);
  assert.equal(res.body.error.code, 'payload_too_large');
  assert.match(res.body.error.message, /images\[1\] \(big\.png\)/);
  res = await api.http.post('/predict').send({ jobId: job.id, images: [big.toString('base64')] }).expect(413);
  assert.match(res.body.error.message, /images\[0\] is \d+ bytes/);
  res = await api.http.post('/predict').field('jobId', job.id).field('topK', 'two').attach('image', images[0]!, 'a.png').expect(400);
  assert.match(res.body.error.message, /topK/);
});

test('the limits come from PREDICT_* settings: batch size and body size, for JSON and for forms', async () => {
  const saved = { ...process.env };
  Object.assign(process.env, { PREDICT_MAX_BATCH: '4', PREDICT_MAX_BODY_BYTES: String(200 * 1024) });
  let small: TestApi;
  try {
    small = await startTestApi();
  } finally {
    process.env = saved;
  }
  const served = await seedServedJob(small);
  const b64 = images[0]!.toString('base64');
  let res = await small.http.post('/predict').send({ jobId: served.id, images: Array(5).fill(b64) }).expect(413);
  assert.match(res.body.error.message, /at most 4/);
  await small.http.post('/predict').send({ jobId: served.id, images: Array(4).fill(b64) }).expect(200);
  res = await small.http.post('/predict').send({ jobId: served.id, images: [Buffer.alloc(300 * 1024, 1).toString('base64')] }).expect(413);
  assert.equal(res.body.error.code, 'payload_too_large');
  const form = small.http.post('/predict').field('jobId', served.id);
  for (let i = 0; i < 3; i++) form.attach('image', Buffer.alloc(90 * 1024, i), `big${i}.png`);
  res = await form.expect(413);
  assert.match(res.body.error.message, /larger than 204800 bytes/);
  await small.close();
});

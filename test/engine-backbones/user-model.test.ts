// A user's own TF.js layers model as the backbone, by file:// path and by http:// URL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { GraftError } from '@graft/spec';
import { safeFetch } from '@graft/safe-fetch';
import { initBackend } from '../../packages/engine/src/runtime/backend.ts';
import { loadBackbone } from '../../packages/engine/src/backbones/index.ts';

let dir: string;
let server: Server;
let hits = 0;
// the model server is on loopback, which the backbone fetcher refuses unless the operator admits it
process.env.FETCH_ALLOW = '127.0.0.1';
let baseUrl: string;
let reference: tf.LayersModel;

/** A small CNN: two conv blocks, global pooling (the features), and a classifier head that must be dropped. */
function tinyCnn(): tf.LayersModel {
  const input = tf.input({ shape: [32, 32, 3] });
  let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'c1' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'c2' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 12, kernelSize: 1, activation: 'relu', name: 'c3' }).apply(x) as tf.SymbolicTensor;
  const features = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const head = tf.layers.dense({ units: 3, activation: 'softmax', name: 'head' }).apply(features) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: head });
}

/** model.json + weights.bin the way tfjs' file saver would write them (that saver needs tfjs-node). */
async function saveToFolder(model: tf.LayersModel, folder: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      await writeFile(path.join(folder, 'weights.bin'), Buffer.from(a.weightData as ArrayBuffer));
      const json = { modelTopology: a.modelTopology, format: 'layers-model', weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] };
      await writeFile(path.join(folder, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

before(async () => {
  await initBackend();
  dir = await mkdtemp(path.join(tmpdir(), 'graft-user-model-'));
  reference = tinyCnn();
  await saveToFolder(reference, dir);
  server = createServer(async (req, res) => {
    hits++;
    try {
      res.end(await readFile(path.join(dir, path.basename(req.url ?? ''))));
    } catch {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

after(async () => {
  reference.dispose();
  server.close();
  await rm(dir, { recursive: true, force: true });
});

test('a TF.js layers model by file:// URL loads; its pooled layer gives the features; it splits at block ends', async () => {
  const url = pathToFileURL(path.join(dir, 'model.json')).href;
  const b = await loadBackbone({ url, pixelRange: '-1,1' }, {});
  assert.equal(b.imageSize, 32);
  assert.deepEqual(b.info.pixelRange, [-1, 1]);
  assert.equal(b.info.featureDim, 12);
  assert.ok(b.info.blocks >= 2, `found ${b.info.blocks} blocks`);
  const x = tf.randomUniform([2, 32, 32, 3]) as tf.Tensor4D;
  const features = b.model.predict(x) as tf.Tensor;
  const gap = tf.model({ inputs: reference.inputs, outputs: reference.getLayer('gap').output as tf.SymbolicTensor });
  const expected = gap.predict(x) as tf.Tensor;
  assert.ok(tf.max(tf.abs(tf.sub(features, expected))).dataSync()[0] <= 1e-5, 'same weights as the saved model');
  for (const k of [0, 1, 'all'] as const) {
    const { prefix, suffix } = b.split(k);
    const out = suffix.predict(prefix ? (prefix.predict(x) as tf.Tensor) : x) as tf.Tensor;
    assert.ok(tf.max(tf.abs(tf.sub(out, features))).dataSync()[0] <= 1e-5, `split(${k})`);
  }
  b.dispose();
});

test('the same model by http:// URL loads; wrong sizes and places are refused clearly', async () => {
  const b = await loadBackbone({ url: `${baseUrl}/model.json` }, { imageSize: 32 });
  assert.equal(b.info.featureDim, 12);
  b.dispose();
  await assert.rejects(loadBackbone({ url: `${baseUrl}/model.json` }, { imageSize: 64 }), (e: unknown) => e instanceof GraftError && e.code === 'invalid_hyperparameters');
  await assert.rejects(loadBackbone({ url: `${baseUrl}/missing.json` }, {}), (e: unknown) => e instanceof GraftError && e.code === 'backbone_load_failed');
  await assert.rejects(loadBackbone({ url: 'ftp://example.com/model.json' }, {}), (e: unknown) => e instanceof GraftError && e.code === 'url_not_allowed');
  // through the service's fetcher (the worker hands it to the engine) and without FETCH_ALLOW, the same loopback
  // URL is refused before anything reaches the server
  const before = hits;
  delete process.env.FETCH_ALLOW;
  try {
    await assert.rejects(loadBackbone({ url: `${baseUrl}/model.json` }, { fetch: (u) => safeFetch(u) }), (e: unknown) => e instanceof GraftError && e.code === 'url_not_allowed' && /FETCH_ALLOW/.test(e.message));
    assert.equal(hits, before);
  } finally {
    process.env.FETCH_ALLOW = '127.0.0.1';
  }
  const url = pathToFileURL(path.join(dir, 'model.json')).href;
  await assert.rejects(loadBackbone({ url }, { allowedFileRoot: path.join(dir, 'elsewhere') }), (e: unknown) => e instanceof GraftError && e.code === 'url_not_allowed');
});

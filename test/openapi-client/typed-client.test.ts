// The OpenAPI document must be true to the routes: a client generated from the served /openapi.json
// (openapi-typescript + openapi-fetch) type-checks with tsc — accepting real calls, rejecting wrong
// ones — and then submits a real job, waits for it and predicts with it against the running service.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import { killWorker } from '../support/service.ts';
import { startWorkerForApi } from '../support/api-worker.ts';
import { startTestApi } from '../support/api.ts';
import { defaultPatterns, encodeImage, makeImageFolderZip, mulberry32, renderPattern } from '../support/images.ts';
import { serveBuffer, startServer } from '../support/http-server.ts';

const root = path.resolve(import.meta.dirname, '../..');
// var/ is gitignored and outside the project's tsconfig, so the generated client never goes stale in git
const dir = path.join(root, 'var', `openapi-client-${process.pid}`);

// What a client author writes. The @ts-expect-error lines prove the generated types are strict:
// if a wrong call type-checked, tsc would report the unused directive.
const usage = `
import createClient from 'openapi-fetch';
import type { paths } from './graft-api.ts';

type Status = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export async function submitWaitPredict(baseUrl: string, datasetUrl: string, image: string, apiKey = process.env.GRAFT_API_KEY) {
  const client = createClient<paths>({ baseUrl, headers: { authorization: \`Bearer \${apiKey}\` } });
  const submitted = await client.POST('/jobs', {
    body: { method: 'fine_tune', dataset: { url: datasetUrl }, hyperparameters: { imageSize: 64, epochs: 5, seed: 1 } },
  });
  if (!submitted.data) throw new Error('submit refused: ' + JSON.stringify(submitted.error));
  const id: string = submitted.data.id;
  let status: Status = submitted.data.status;
  for (let i = 0; i < 1200 && (status === 'queued' || status === 'running'); i++) {
    await new Promise((r) => setTimeout(r, 250));
    const read = await client.GET('/jobs/{id}', { params: { path: { id } } });
    if (!read.data) throw new Error('read failed: ' + JSON.stringify(read.error));
    status = read.data.status;
  }
  const metrics = await client.GET('/jobs/{id}/metrics', { params: { path: { id } } });
  const accuracy: number | undefined = metrics.data?.evaluation?.accuracy;
  const predicted = await client.POST('/predict', { body: { jobId: id, images: [image, { base64: image }], topK: 2 } });
  if (!predicted.data) throw new Error('predict refused: ' + JSON.stringify(predicted.error));
  const first = predicted.data.predictions[0]!;
  const label: string = first.label;
  const runnerUp: number = first.topK[1]!.score;
  const notFound = await client.GET('/jobs/{id}', { params: { path: { id: '00000000-0000-4000-8000-000000000000' } } });
  const code: string | undefined = notFound.error?.error.code;
  const zip = await client.GET('/jobs/{id}/model', { params: { path: { id } }, parseAs: 'arrayBuffer' });
  const onnx = await client.GET('/jobs/{id}/model', { params: { path: { id }, query: { format: 'onnx' } }, parseAs: 'arrayBuffer' });
  const report = await client.GET('/jobs/{id}/report', { params: { path: { id } }, parseAs: 'text' });
  return {
    id, status, accuracy, label, runnerUp, predictions: predicted.data.predictions.length, notFoundCode: code,
    zipBytes: zip.data?.byteLength ?? 0, onnxBytes: onnx.data?.byteLength ?? 0, reportHasCurves: report.data?.includes('id="loss-curve"') ?? false,
  };
}

export async function wrongCalls(client: ReturnType<typeof createClient<paths>>) {
  // @ts-expect-error method must be one of the four methods
  await client.POST('/jobs', { body: { method: 'magic', dataset: { url: 'x' } } });
  // @ts-expect-error topK is a number
  await client.POST('/predict', { body: { jobId: 'x', images: ['a'], topK: '2' } });
  // @ts-expect-error there is no such route
  await client.GET('/jobs/{id}/nothing', { params: { path: { id: 'x' } } });
  // @ts-expect-error the model comes as tfjs or onnx only
  await client.GET('/jobs/{id}/model', { params: { path: { id: 'x' }, query: { format: 'pt' } } });
}
`;

interface GeneratedUsage {
  submitWaitPredict(
    baseUrl: string,
    datasetUrl: string,
    image: string,
    apiKey: string,
  ): Promise<{ status: string; accuracy?: number; label: string; predictions: number; notFoundCode?: string; zipBytes: number; onnxBytes: number; reportHasCurves: boolean }>;
}

after(() => rm(dir, { recursive: true, force: true }));

// the dataset server is on loopback, which the API and the worker refuse unless the operator admits it
process.env.FETCH_ALLOW = '127.0.0.1';

test('a client generated from /openapi.json type-checks and submits, waits for and predicts with a real job', async () => {
  const api = await startTestApi();
  const worker = startWorkerForApi(api);
  const data = await makeImageFolderZip({ patterns: defaultPatterns.slice(0, 2), perClass: 12, size: 64 });
  const server = await startServer({ '/data.zip': serveBuffer(data, 'application/zip') });
  try {
    const doc = await (await fetch(`${api.url}/openapi.json`)).json();
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'graft-api.ts'), astToString(await openapiTS(doc)));
    await writeFile(path.join(dir, 'usage.ts'), usage);
    await writeFile(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({ extends: path.join(root, 'tsconfig.json'), compilerOptions: { types: ['node'], typeRoots: [path.join(root, 'node_modules/@types')] }, include: ['*.ts'] }),
    );
    await promisify(execFile)(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', dir]).catch((err: { stdout: string }) => {
      assert.fail(`tsc rejected the generated client or its use:\n${err.stdout}`);
    });

    const rand = mulberry32(9);
    const image = (await encodeImage(renderPattern(defaultPatterns[0]!, rand, { size: 64 }), 64)).toString('base64');
    const { submitWaitPredict } = (await import(path.join(dir, 'usage.ts'))) as GeneratedUsage;
    const result = await submitWaitPredict(api.url, server.url('/data.zip'), image, api.key);
    assert.equal(result.status, 'succeeded');
    assert.equal(result.predictions, 2);
    assert.equal(result.label, defaultPatterns[0]!.name);
    assert.ok(typeof result.accuracy === 'number');
    assert.equal(result.notFoundCode, 'not_found');
    assert.ok(result.zipBytes > 1000 && result.onnxBytes > 1000, 'both model downloads');
    assert.ok(result.reportHasCurves);
  } finally {
    await server.close();
    await killWorker(worker);
  }
});

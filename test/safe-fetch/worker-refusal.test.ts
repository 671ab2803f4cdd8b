// End to end through a real worker: a job whose dataset URL leads to an internal address fails with
// url_not_allowed naming the URL and FETCH_ALLOW, and the loopback server behind it is never reached.
// (The API refuses such literals at submission; the job is put in the queue directly, as a name that
// resolves inside would get there.)
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { submitJob } from '@graft/queue';
import { startTestApi } from '../support/api.ts';
import { startWorkerForApi } from '../support/api-worker.ts';
import { killWorker, waitForJob } from '../support/service.ts';
import { serveBuffer, startServer } from '../support/http-server.ts';
import { makeImageFolderZip } from '../support/images.ts';

delete process.env.FETCH_ALLOW;
const api = await startTestApi();
const worker = startWorkerForApi(api);
after(() => killWorker(worker));

test('a dataset URL on loopback (localhost) fails the job with url_not_allowed; nothing reaches the server', async () => {
  let hits = 0;
  const zip = await makeImageFolderZip({ perClass: 2, size: 16 });
  const server = await startServer({ '/data.zip': (req, res) => (hits++, serveBuffer(zip)(req, res)) });
  try {
    const port = new URL(server.url('/')).port;
    const dataset = await submitJob(api.app, { method: 'fine_tune', dataset: { url: `http://localhost:${port}/data.zip` } }, api.tenantId);
    const failed = await waitForJob(api.db.prisma, dataset.id, (j) => j.status === 'failed', 120_000, [worker]);
    assert.equal(failed.errorCode, 'url_not_allowed');
    assert.match(failed.errorMessage ?? '', /^dataset: http:\/\/localhost:\d+\/data\.zip is not allowed: .*FETCH_ALLOW/);
    assert.equal(hits, 0);
  } finally {
    await server.close();
  }
});

// graft-client against a running service: the CLI runs as its own process and talks HTTP only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { killWorker } from '../support/service.ts';
import { startWorkerForApi } from '../support/api-worker.ts';
import { startTestApi, type TestApi } from '../support/api.ts';
import { seedServedJob, type ServedJob } from '../support/served-job.ts';
import { defaultPatterns, encodeImage, makeImageFolderZip, mulberry32, renderPattern } from '../support/images.ts';

const main = path.resolve(import.meta.dirname, '../../apps/cli/src/main.ts');
let job: ServedJob;
let dir: string;

const cli = (...args: string[]) => cliWith({}, ...args);

/** `env` on top of GRAFT_URL and the test tenant's GRAFT_API_KEY. */
function cliWith(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', import.meta.resolve('tsx'), main, ...args], { env: { ...process.env, GRAFT_URL: api.url, GRAFT_API_KEY: api.key, ...env }, cwd: dir }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const api: TestApi = await startTestApi();

before(async () => {
  job = await seedServedJob(api);
  dir = await mkdtemp(path.join(tmpdir(), 'graft-cli-'));
  const rand = mulberry32(2);
  for (const i of [0, 1]) await writeFile(path.join(dir, `img${i}.png`), await encodeImage(renderPattern(defaultPatterns[i]!, rand, { size: 64 }), 64));
});
after(() => rm(dir, { recursive: true, force: true }));

test('predict sends image files and prints one ranked line per image', async () => {
  const r = await cli('predict', job.id, 'img0.png', 'img1.png', '--top-k', '2');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 4, r.stdout);
  assert.match(lines[0]!, /^img0\.png\t\w+\t0\.\d{4}$/);
  assert.match(lines[2]!, /^img1\.png\t/);
  const json = await cli('predict', job.id, 'img0.png', '--json');
  const body = JSON.parse(json.stdout);
  assert.equal(body.jobId, job.id);
  assert.ok(job.labels.includes(body.predictions[0].label));
});

test('metrics prints the epochs and the evaluation; download saves a loadable model zip', async () => {
  const m = await cli('metrics', job.id);
  assert.equal(m.code, 0, m.stderr);
  assert.match(m.stdout, /epoch 3: loss 0\.3200/);
  assert.match(m.stdout, /accuracy 0\.9000/);
  for (const label of job.labels) assert.match(m.stdout, new RegExp(label));

  const d = await cli('download', job.id, '--out', 'model.zip');
  assert.equal(d.code, 0, d.stderr);
  const zip = await readFile(path.join(dir, 'model.zip'));
  assert.equal(zip.subarray(0, 2).toString(), 'PK');
  assert.ok(zip.includes(Buffer.from('model.json')));
});

test('errors are one readable line and a non-zero exit code', async () => {
  const r = await cli('predict', '00000000-0000-4000-8000-000000000000', 'img0.png');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: not_found: No job/);
  const u = await cli('predict', job.id);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /needs a job id and at least one image/);
  const noKey = await cliWith({ GRAFT_API_KEY: '' }, 'metrics', job.id);
  assert.equal(noKey.code, 1);
  assert.match(noKey.stderr, /^error: unauthorized: .*set GRAFT_API_KEY/);
  // the admin key npm start leaves in var/admin-key is used when GRAFT_API_KEY is unset
  await mkdir(path.join(dir, 'var'), { recursive: true });
  await writeFile(path.join(dir, 'var', 'admin-key'), `${api.key}\n`);
  try {
    assert.equal((await cliWith({ GRAFT_API_KEY: '' }, 'metrics', job.id)).code, 0);
  } finally {
    await rm(path.join(dir, 'var'), { recursive: true, force: true });
  }
});

test('submit uploads a local archive and --watch follows the real job to the end with a progress bar', async () => {
  const worker = startWorkerForApi(api);
  try {
    await writeFile(path.join(dir, 'data.zip'), await makeImageFolderZip({ patterns: defaultPatterns.slice(0, 2), perClass: 12, size: 64 }));
    const r = await cli('submit', '--method', 'feature_extraction', '--data', 'data.zip', '--image-size', '64', '--seed', '1', '--watch');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const [id] = r.stdout.split('\n');
    assert.match(id!, /^[0-9a-f-]{36}$/);
    assert.match(r.stderr, /uploading data\.zip/);
    assert.match(r.stdout, /\[#+-*\]\s+\d+%/, 'a progress bar');
    assert.match(r.stdout, /\[#{30}\] 100%/);
    assert.match(r.stdout, /succeeded \(classes: green_circle, red_square\)/);
    const p = await cli('predict', id!, 'img0.png');
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /^img0\.png\tred_square\t/);
  } finally {
    await killWorker(worker);
  }
});

test('sweep submit starts a sweep from a spec file; sweep watch follows it to the leaderboard and the best job', async () => {
  const worker = startWorkerForApi(api);
  try {
    await writeFile(path.join(dir, 'shapes.zip'), await makeImageFolderZip({ patterns: defaultPatterns.slice(0, 2), perClass: 8, size: 32 }));
    const spec = {
      method: 'fine_tune',
      hyperparameters: { imageSize: 32, epochs: 2, batchSize: 8, trainableBlocks: 1, augment: false },
      search: { algorithm: 'grid', maxTrials: 2, parallelTrials: 2, objective: 'valLoss', space: { learningRate: [0.01, 0.003] } },
    };
    await writeFile(path.join(dir, 'sweep.json'), JSON.stringify(spec));
    const s = await cli('sweep', 'submit', 'sweep.json', '--data', 'shapes.zip');
    assert.equal(s.code, 0, s.stderr);
    const id = s.stdout.trim();
    assert.match(id, /^[0-9a-f-]{36}$/);
    const w = await cli('sweep', 'watch', id);
    assert.equal(w.code, 0, w.stderr + w.stdout);
    assert.match(w.stdout, /trial 0 succeeded  valLoss \d\.\d{4}  epochs 2  learningRate=0\.01/);
    assert.match(w.stdout, /trial 1 succeeded/);
    const best = /best job ([0-9a-f-]{36}) \(valLoss \d\.\d{4}\)/.exec(w.stdout);
    assert.ok(best, w.stdout);
    const p = await cli('predict', best[1]!, 'img0.png');
    assert.equal(p.code, 0, p.stderr);
    const u = await cli('sweep', 'list');
    assert.equal(u.code, 2);
    assert.match(u.stderr, /unknown sweep command 'list'/);
  } finally {
    await killWorker(worker);
  }
});

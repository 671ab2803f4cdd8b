// The console in a real browser (Debian's chromium through playwright-core) against a real API and worker:
// a key is entered, an archive is uploaded through the page and summarized, a field error is shown where the
// API names it, a short job trains while the page follows it to 100 %, an image dropped on "try it" gets a
// prediction and both model files download; a small grid sweep is started from the same form, its page follows
// it to the end and links to the best trial's job. No request may leave the service's own origin.
// Screenshots at desktop and phone width go to test-output/console/.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { defaultPatterns, encodeImage, makeImageFolderFiles, mulberry32, renderPattern, zipEntries } from '../support/images.ts';
import { startTestApi } from '../support/api.ts';
import { startWorkerForApi } from '../support/api-worker.ts';
import { killWorker } from '../support/service.ts';

const outDir = path.resolve('test-output/console');
const executablePath = '/usr/bin/chromium';
await access(executablePath).catch(() => {
  throw new Error(`${executablePath} is missing: install Debian's chromium (apt-get install chromium), as .ci/run does`);
});
const api = await startTestApi();
const worker = startWorkerForApi(api);
after(() => killWorker(worker));

const work = await mkdtemp(path.join(tmpdir(), 'graft-console-test-'));
const userDataDir = path.join(work, 'profile');
after(() => rm(work, { recursive: true, force: true }));

const context: BrowserContext = await chromium.launchPersistentContext(userDataDir, {
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  viewport: { width: 1280, height: 900 },
  acceptDownloads: true,
});
after(() => context.close());

const page: Page = context.pages()[0] ?? (await context.newPage());
const origin = new URL(api.url).origin;
const foreign: string[] = [];
const apiRequests: { url: string; authorization?: string }[] = [];
const pageErrors: string[] = [];
page.on('request', (req) => {
  const url = new URL(req.url());
  if (url.protocol === 'blob:' || url.protocol === 'data:') return; // the page's own objects (previews, downloads)
  if (url.origin !== origin) foreign.push(req.url());
  if (!url.pathname.startsWith('/console/') && url.pathname !== '/') apiRequests.push({ url: req.url(), authorization: req.headers().authorization });
});
page.on('pageerror', (err) => pageErrors.push(err.message));
page.on('dialog', (d) => void d.accept());
// The page's content security policy would block what it forbids; a violation means the page tried.
await page.addInitScript(() => {
  const w = window as unknown as { cspViolations: string[] };
  w.cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => w.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
});

async function screenshot(name: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: path.join(outDir, `${name}-1280.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(outDir, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
}

/** Drops files on an element the way a user's drag-and-drop does (a DataTransfer on a drop event). */
async function dropFiles(selector: string, files: { name: string; type: string; bytes: Buffer }[]): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, type: f.type, base64: f.bytes.toString('base64') }));
  const transfer = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
    return dt;
  }, payload);
  await page.dispatchEvent(selector, 'drop', { dataTransfer: transfer });
}

/** What holds after every test: requests stayed on the origin and carried the key, no script error, no CSP violation. */
async function assertPageStayedClean(): Promise<void> {
  assert.deepEqual(foreign, [], 'every request stays on the service origin');
  assert.ok(apiRequests.length > 5);
  const keyless = apiRequests.filter((r) => r.authorization !== `Bearer ${api.key}`);
  assert.deepEqual(keyless, [], 'every API call carries the key');
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations), []);
}

/** Waits for the new-job form's defaults (GET /console/defaults.json and GET /backbones) to be filled in. */
async function formReady(): Promise<void> {
  await page.getByRole('heading', { name: 'New job' }).waitFor();
  const epochs = await page.getByLabel('Epochs').elementHandle();
  await page.waitForFunction((el) => (el as HTMLInputElement).value !== '', epochs);
}

/** Fills the knobs for a short job on tiny images. */
async function smallJobKnobs(): Promise<void> {
  await page.getByLabel('Epochs').fill('2');
  await page.getByLabel('Image size (px)').fill('32');
  await page.getByLabel('Batch size').fill('8');
  await page.getByLabel('Trainable backbone blocks', { exact: true }).fill('1');
  await page.getByLabel(/^Augment images/).uncheck();
}

const classes = defaultPatterns.slice(0, 2).map((p) => p.name).sort();

test('upload, train, watch, try and download through the console', { timeout: 120_000 }, async () => {
  await page.goto(`${api.url}/`);
  await page.getByRole('heading', { name: 'Datasets' }).waitFor();

  // The key is entered once and then sent with every API call.
  await page.getByRole('button', { name: 'API key' }).click();
  await page.getByLabel('Key', { exact: true }).fill(api.key);
  await page.getByRole('button', { name: 'Save' }).click();

  // Upload through the file picker: 2 classes of 8 images and one file a job skips.
  const files = await makeImageFolderFiles({ perClass: 8, size: 32 });
  files.set('README.txt', Buffer.from('not an image'));
  const archive = path.join(work, 'shapes.zip');
  await writeFile(archive, await zipEntries(files));
  // Uploads are throttled (in the browser) so the progress bar is seen moving.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 24 * 1024 });
  await page.setInputFiles('#dataset-file', archive);
  const bar = page.locator('#upload-progress');
  await bar.waitFor();
  await page.waitForFunction(() => Number((document.getElementById('upload-progress') as HTMLProgressElement | null)?.value) > 0.1);
  assert.match(await page.locator('label[for="upload-progress"]').innerText(), /Uploading shapes\.zip: \d+ %/);
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  const summary = page.getByTestId('dataset-summary');
  await summary.waitFor({ timeout: 20_000 });
  assert.match(await summary.innerText(), /16 images in 2 classes, 1 skipped/);
  for (const c of classes) await page.getByRole('cell', { name: c, exact: true }).waitFor();
  await screenshot('datasets');

  // New job: an out-of-range knob comes back as an error beside that field.
  await page.getByRole('link', { name: 'Train on this' }).click();
  await formReady();
  // the values shown are what a job on this upload would use, with the reason the service gives
  await page.getByTestId('defaults-note').filter({ hasText: 'what a job on this data would use' }).waitFor();
  const uploadId = page.url().split('dataset=')[1];
  const preview = (await api.http.post('/jobs/preview').send({ method: 'fine_tune', dataset: { id: uploadId } }).expect(200)).body.resolvedHyperparameters;
  assert.equal(await page.getByLabel('Epochs').inputValue(), String(preview.epochs.value), 'the data-aware default is filled in');
  assert.ok((await page.locator('#hp-epochs-hint').innerText()).startsWith(preview.epochs.why), 'with its reason');
  const unlabelled = await page.evaluate(() =>
    Array.from(document.querySelectorAll('main input, main select')).filter((el) => !(el as HTMLInputElement).labels?.length && !el.getAttribute('aria-label')).map((el) => el.outerHTML),
  );
  assert.deepEqual(unlabelled, [], 'every control of the form has a label');
  await page.getByLabel('Epochs').fill('0');
  await page.getByRole('button', { name: 'Start training' }).click();
  const epochsError = page.locator('#epochs-error');
  await epochsError.waitFor();
  assert.match(await epochsError.innerText(), /epochs/);
  assert.equal(await page.getByLabel('Epochs').getAttribute('aria-invalid'), 'true');
  await screenshot('new-job');

  await smallJobKnobs();
  await page.getByRole('button', { name: 'Start training' }).click();
  await page.waitForURL(/#\/jobs\/[0-9a-f-]{36}$/);
  const jobId = page.url().split('/').at(-1)!;

  // The page follows the job's event stream to the end.
  await page.getByTestId('progress-text').filter({ hasText: '100 %' }).waitFor({ timeout: 60_000 });
  await page.locator('.badge.succeeded').waitFor({ timeout: 10_000 }).catch(() => {
    throw new Error(`job did not succeed; worker output:\n${worker.output().slice(-3000)}`);
  });
  await page.getByTestId('confusion-matrix').waitFor();
  assert.equal(await page.locator('.chart canvas').count() >= 2, true, 'loss and accuracy curves are drawn');

  // Try it: a dropped image of a known class gets labels with scores.
  const image = await encodeImage(renderPattern(defaultPatterns[0]!, mulberry32(99), { size: 32 }), 32, 'png');
  await dropFiles('label[for="predict-files"]', [{ name: 'red.png', type: 'image/png', bytes: image }]);
  const prediction = page.getByTestId('prediction');
  await prediction.waitFor({ timeout: 30_000 }).catch(async (err) => {
    throw new Error(`no prediction (${err.message}); the section reads: ${await page.locator('section[aria-labelledby="try-title"]').innerText()}`);
  });
  const predicted = await prediction.locator('.label-name').allInnerTexts();
  assert.equal(predicted.length, 2, 'top-k over 2 classes gives both');
  assert.deepEqual([...predicted].sort(), classes);
  assert.match(await prediction.locator('.score').first().innerText(), /^\d+(\.\d)? %$/);
  await screenshot('job');

  // Both model files download.
  for (const [button, suffix, magic] of [['TF.js model (zip)', '-tfjs.zip', 'PK'], ['ONNX model', '.onnx', '']] as const) {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button }).click()]);
    assert.equal(download.suggestedFilename(), `graft-${jobId}${suffix}`);
    const bytes = await readFile((await download.path())!);
    assert.ok(bytes.length > 1000, `${button}: ${bytes.length} bytes`);
    if (magic) assert.equal(bytes.subarray(0, 2).toString(), magic);
  }

  // The jobs list shows it finished.
  await page.getByRole('link', { name: 'Jobs', exact: true }).click();
  const row = page.locator('.job-row', { hasText: jobId.slice(0, 8) });
  await row.locator('.badge.succeeded').waitFor();
  assert.match(await row.getByTestId('progress-text').innerText(), /100 %/);
  await screenshot('jobs');

  // A long job is cancelled from the list; its row follows it to the end.
  const datasetId = (await api.http.get(`/jobs/${jobId}`).expect(200)).body.spec.dataset.id;
  const long = { epochs: 200, earlyStoppingPatience: 0, imageSize: 32, batchSize: 8, trainableBlocks: 1, augment: false };
  const { body: longJob } = await api.http.post('/jobs').send({ method: 'fine_tune', dataset: { id: datasetId }, hyperparameters: long }).expect(202);
  await page.reload();
  const longRow = page.locator('.job-row', { hasText: longJob.id.slice(0, 8) });
  await longRow.getByRole('button', { name: `Cancel job ${longJob.id.slice(0, 8)}` }).click();
  await longRow.locator('.badge.cancelled').waitFor({ timeout: 30_000 });
  assert.equal(await longRow.getByRole('button').count(), 0, 'a finished job has nothing to cancel');
  await assertPageStayedClean();
});

test('a grid sweep from the new-job form: its page follows it to the end and links to the best trial', { timeout: 120_000 }, async () => {
  await page.goto(`${api.url}/#/datasets`);
  const archive = path.join(work, 'sweep-shapes.zip');
  await writeFile(archive, await zipEntries(await makeImageFolderFiles({ perClass: 8, size: 32 })));
  await page.setInputFiles('#dataset-file', archive);
  const card = page.locator('.card', { hasText: 'sweep-shapes.zip' });
  await card.getByTestId('dataset-summary').waitFor({ timeout: 20_000 });
  await card.getByRole('link', { name: 'Train on this' }).click();
  await formReady();
  await smallJobKnobs();

  // Searching the learning rate: a value the API refuses is shown by that field.
  await page.getByLabel('Search hyper-parameters').check();
  await page.getByLabel('Search learning rate').check();
  const learningRate = page.getByLabel('Learning rate', { exact: true });
  await learningRate.fill('0.01, 0');
  await page.getByRole('button', { name: 'Start sweep' }).click();
  const error = page.locator('#learningRate-error');
  await error.waitFor();
  assert.match(await error.innerText(), /learningRate.*> 0|> 0/);
  assert.equal(await learningRate.getAttribute('aria-invalid'), 'true');
  // a range is for random search
  await learningRate.fill('0.0001 .. 0.01 log');
  await page.getByRole('button', { name: 'Start sweep' }).click();
  await page.locator('#learningRate-error', { hasText: /grid search takes lists/ }).waitFor();
  await learningRate.fill('0.01, 0.003');
  assert.equal(await page.getByLabel('Trials (at most)').inputValue(), '2', 'a grid runs its points by default');
  await screenshot('new-sweep');
  await page.getByRole('button', { name: 'Start sweep' }).click();
  await page.waitForURL(/#\/sweeps\/[0-9a-f-]{36}$/);
  const sweepId = page.url().split('/').at(-1)!;

  // The page re-reads the sweep until it ends: both trials on the leaderboard, the best marked, their curves drawn.
  await page.locator('.title-row .badge.succeeded').waitFor({ timeout: 90_000 }).catch(async () => {
    throw new Error(`sweep did not succeed; the page reads:\n${await page.locator('main').innerText()}\nworker output:\n${worker.output().slice(-3000)}`);
  });
  assert.equal(await page.getByTestId('trials-done').innerText(), '2 of 2 trials ended');
  const rows = page.getByTestId('leaderboard').locator('tbody tr');
  assert.equal(await rows.count(), 2);
  assert.deepEqual((await rows.locator('.badge').allInnerTexts()).sort(), ['succeeded', 'succeeded']);
  assert.deepEqual((await rows.locator('td:nth-child(3)').allInnerTexts()).sort(), ['0.003', '0.01'], 'each trial shows the learning rate it tried');
  const best = page.locator('tr.best');
  assert.equal(await best.count(), 1, 'one trial is marked best');
  assert.match(await best.innerText(), /1\s*★ best/);
  assert.match(await page.getByTestId('sweep-best').innerText(), /^Best: trial #\d with validation accuracy \d+(\.\d)? %$/);
  await page.waitForFunction(() => Array.from(document.querySelectorAll('.chart .u-legend .u-series')).filter((e) => /trial #/.test(e.textContent ?? '')).length === 2);
  assert.equal(await page.locator('.chart canvas').count(), 1, 'one chart holds every trial');
  await screenshot('sweep');
  await page.screenshot({ path: path.join(outDir, 'sweep-page.png'), fullPage: true });

  // The best trial's link leads to its job page, which names the sweep it belongs to.
  const bestTrial = (await best.getByRole('link').innerText()).replace('Trial #', '');
  const useBest = await page.getByRole('link', { name: 'Use the best model' }).getAttribute('href');
  await best.getByRole('link').click();
  await page.waitForURL(/#\/jobs\/[0-9a-f-]{36}$/);
  assert.equal(`#/jobs/${page.url().split('/').at(-1)}`, useBest, '"Use the best model" goes to the best trial');
  assert.equal(await page.getByTestId('job-sweep').innerText(), `Trial ${bestTrial} of sweep ${sweepId.slice(0, 8)}`);
  await page.locator('.title-row .badge.succeeded').waitFor();
  await page.getByRole('button', { name: 'ONNX model' }).waitFor();
  await page.getByRole('link', { name: `sweep ${sweepId.slice(0, 8)}` }).click();
  await page.getByTestId('leaderboard').waitFor();

  // The sweeps list shows it ended with its best score.
  await page.getByRole('link', { name: 'Sweeps', exact: true }).click();
  const row = page.locator('.job-row', { hasText: sweepId.slice(0, 8) });
  await row.locator('.badge.succeeded').waitFor();
  assert.equal(await row.getByTestId('trials-done').innerText(), '2 of 2 trials ended');
  assert.match(await row.getByTestId('best').innerText(), /^best \d+(\.\d)? %$/);
  await screenshot('sweeps');

  // A long sweep: its page draws a running trial's curve as it trains, and cancels the sweep.
  const datasetId = (await api.http.get(`/jobs/${useBest!.split('/').at(-1)}`).expect(200)).body.spec.dataset.id;
  const long = { epochs: 200, earlyStoppingPatience: 0, imageSize: 32, batchSize: 8, trainableBlocks: 1, augment: false };
  const search = { algorithm: 'grid', maxTrials: 2, parallelTrials: 1, objective: 'valLoss', space: { learningRate: [0.01, 0.003] } };
  const { body: longSweep } = await api.http.post('/sweeps').send({ method: 'fine_tune', dataset: { id: datasetId }, hyperparameters: long, search }).expect(202);
  await page.goto(`${api.url}/#/sweeps/${longSweep.id}`);
  await page.locator('.chart .u-legend', { hasText: 'trial #1' }).waitFor({ timeout: 30_000 });
  assert.equal(await page.getByTestId('leaderboard').locator('tbody .badge').innerText(), 'running');
  await screenshot('sweep-running');
  await page.getByRole('button', { name: 'Cancel sweep' }).click();
  await page.locator('.title-row .badge.cancelled').waitFor({ timeout: 30_000 });
  // the running trial stops at its next batch, and the page follows it there
  await page.getByTestId('leaderboard').locator('tbody .badge.cancelled').waitFor({ timeout: 30_000 });
  assert.deepEqual(await page.getByTestId('leaderboard').locator('tbody .badge').allInnerTexts(), ['cancelled']);
  assert.equal(await page.getByRole('button', { name: 'Cancel sweep' }).count(), 0, 'an ended sweep has nothing to cancel');
  assert.equal(await page.getByRole('link', { name: 'Use the best model' }).count(), 0, 'no trial succeeded');
  await assertPageStayedClean();
});

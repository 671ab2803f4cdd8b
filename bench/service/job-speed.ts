// A whole job as the user waits for it (POST /jobs until `succeeded`, the service started the way `npm start`
// starts it) against the PyTorch scripts an expert would write, on the same zip archives in the same run.
//   node --import tsx bench/service/job-speed.ts [--sizes 96,224] [--images 2000] [--validation-images 1000]
//     [--jobs fine_tune,feature_extraction] [--no-pytorch] [--pytorch-recipes usual,cached] [--root OTHER_CHECKOUT]
//     [--log FILE]
// Jobs: fine_tune (5 epochs, 2 trainable blocks, no augmentation, batch 32, seed 1; a new head on the last
// layer, as the PyTorch recipes train it, not the default block-end head started as a linear probe) and
// feature_extraction (logistic, its defaults), MobileNetV2, Fashion-MNIST PNGs (28 px) as ImageFolder zips, the validation set given as
// `validation`. PyTorch (bench/service/pytorch_job.py, glibc hugetlb malloc, passive OpenMP waits) is timed as a whole process:
// imports, reading and decoding the zip, training, evaluating, saving. The service gets its own database,
// queue prefix, storage and datasets folder, and a spare loopback port; it is stopped and dropped at the end.
// Prints the speed table with ratios, the service's stage times (GET /jobs/:id/metrics) and the worker's peak RSS.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import type { StageTime } from '@graft/spec';
import { readFashionMnist, takePerClass } from '../engine/bench-data.ts';
import { startBenchService, writeZip } from './bench-service.ts';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '96,224' },
    images: { type: 'string', default: '2000' },
    'validation-images': { type: 'string', default: '1000' },
    jobs: { type: 'string', default: 'fine_tune,feature_extraction' },
    'no-pytorch': { type: 'boolean', default: false },
    /** fine_tune recipes of PyTorch to run: usual (frozen part every epoch), cached (frozen part once) */
    'pytorch-recipes': { type: 'string', default: 'usual,cached' },
    /** keep the service's log (pino JSON) here */
    log: { type: 'string' },
    /** start the service of another checkout (e.g. an export of main, to compare with today in the same conditions) */
    root: { type: 'string' },
  },
});
const sizes = args.sizes!.split(',').map(Number);
const jobs = args.jobs!.split(',') as ('fine_tune' | 'feature_extraction')[];
const root = path.resolve(args.root ?? path.join(import.meta.dirname, '../..'));
const work = await mkdtemp(path.join(tmpdir(), 'graft-bench-job-speed-'));
const run = promisify(execFile);

/** The service's processes (children of the `npm start` process) by their entry file. */
async function serviceProcesses(parent: number): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== parent) continue;
    const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').find((a) => a.endsWith('main.ts'));
    if (cmd) out.set(path.relative(root, path.resolve(root, cmd)), pid);
  }
  return out;
}

/** Peak RSS (VmHWM) in MiB and CPU seconds (user + system, all threads) of each service process. */
async function processStats(parent: number): Promise<Record<string, { peakMiB: number; cpuSeconds: number }>> {
  const out: Record<string, { peakMiB: number; cpuSeconds: number }> = {};
  for (const [name, pid] of await serviceProcesses(parent)) {
    const hwm = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''));
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out[name] = { peakMiB: hwm ? Number(hwm[1]) / 1024 : 0, cpuSeconds: (Number(fields[11]) + Number(fields[12])) / 100 };
  }
  return out;
}

const svc = await startBenchService(root, work);
const { datasetsDir, http } = svc;
const service = svc.process;

interface Ours {
  seconds: number;
  accuracy: number;
  stages: StageTime[];
  /** CPU seconds each service process spent during the job */
  cpu: Record<string, number>;
}

async function serviceJob(method: string, imageSize: number): Promise<Ours> {
  const hyperparameters =
    method === 'fine_tune'
      ? { imageSize, epochs: 5, trainableBlocks: 2, augment: false, batchSize: 32, seed: 1, earlyStoppingPatience: 0, features: 'last_layer' }
      : { imageSize, batchSize: 32, seed: 1, classifier: 'logistic' };
  // MobileNetV2 pinned: the PyTorch scripts run it (feature_extraction's default may be another backbone)
  const spec = { method, backbone: 'mobilenet_v2', dataset: { url: `file://${datasetsDir}/train.zip` }, validation: { url: `file://${datasetsDir}/validation.zip` }, hyperparameters };
  const before = await processStats(service.pid!);
  const t0 = performance.now();
  const submitted = await http<{ id: string }>('POST', '/jobs', spec);
  if (submitted.status !== 202) throw new Error(`POST /jobs: ${submitted.status} ${JSON.stringify(submitted.body)}`);
  for (;;) {
    const { body: job } = await http<{ status: string; error: unknown }>('GET', `/jobs/${submitted.body.id}`);
    if (job.status === 'succeeded') break;
    if (job.status === 'failed' || job.status === 'cancelled') throw new Error(`job ${job.status}: ${JSON.stringify(job.error)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const seconds = (performance.now() - t0) / 1000;
  const after = await processStats(service.pid!);
  const cpu = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v.cpuSeconds - (before[k]?.cpuSeconds ?? 0)]));
  const { body: m } = await http<{ evaluation: { accuracy: number }; stages: StageTime[] }>('GET', `/jobs/${submitted.body.id}/metrics`);
  return { seconds, accuracy: m.evaluation.accuracy, stages: m.stages ?? [], cpu };
}

async function pytorch(job: string, imageSize: number): Promise<{ seconds: number; accuracy: number }> {
  const t0 = performance.now();
  const { stdout } = await run(
    '/usr/bin/python3',
    [path.join(import.meta.dirname, 'pytorch_job.py'), '--job', job, '--train', path.join(datasetsDir, 'train.zip'), '--validation', path.join(datasetsDir, 'validation.zip'),
      '--size', String(imageSize), '--epochs', '5', '--batch', '32', '--out', path.join(work, 'torch-model.pt')],
    // hugetlb: PyTorch loses 30–50 % to page faults without it here; passive OpenMP waits: on a shared machine its
    // spinning threads collapse (a 41 s job ran > 10 min beside other work); both only help the baseline
    { env: { ...process.env, GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1', OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE' }, maxBuffer: 1 << 20 },
  );
  return { seconds: (performance.now() - t0) / 1000, accuracy: JSON.parse(stdout.trim().split('\n').at(-1)!).accuracy };
}

try {
  await writeZip(takePerClass(await readFashionMnist('train'), Number(args.images) / 10, 1), path.join(datasetsDir, 'train.zip'));
  await writeZip(takePerClass(await readFashionMnist('t10k'), Number(args['validation-images']) / 10, 2), path.join(datasetsDir, 'validation.zip'));
  await svc.ready();
  const tables: string[] = [];
  for (const size of sizes) {
    const ours: Record<string, Ours> = {};
    for (const job of jobs) {
      ours[job] = await serviceJob(job, size);
      console.error(`graft ${job} ${size}px: ${ours[job].seconds.toFixed(1)} s, accuracy ${ours[job].accuracy.toFixed(4)}`, ours[job].stages);
    }
    const torch: Record<string, { seconds: number; accuracy: number }> = {};
    if (!args['no-pytorch']) {
      const recipes = args['pytorch-recipes']!.split(',');
      const fineTunes = jobs.includes('fine_tune') ? [...(recipes.includes('usual') ? ['fine_tune'] : []), ...(recipes.includes('cached') ? ['fine_tune_cached'] : [])] : [];
      for (const job of [...jobs.filter((j) => j !== 'fine_tune'), ...fineTunes]) {
        torch[job] = await pytorch(job, size);
        console.error(`pytorch ${job} ${size}px: ${torch[job].seconds.toFixed(1)} s`);
      }
    }
    const stats = await processStats(service.pid!);
    const rows = [
      `\n### ${size} px: ${args.images} train + ${args['validation-images']} validation Fashion-MNIST PNGs (28 px) in zips, MobileNetV2, batch 32`,
      '| job | Graft (POST /jobs → succeeded) | PyTorch, usual recipe | PyTorch, frozen part cached | ratio vs fastest PyTorch | Graft accuracy |',
      '|---|---|---|---|---|---|',
    ];
    for (const job of jobs) {
      const usual = torch[job]?.seconds;
      const cached = job === 'fine_tune' ? torch.fine_tune_cached?.seconds : undefined;
      const fastest = Math.min(...[usual, cached].filter((x): x is number => x !== undefined));
      const s = (x: number | undefined) => (x === undefined ? '—' : `${x.toFixed(1)} s`);
      const label = job === 'fine_tune' ? 'fine_tune, 5 epochs, 2 blocks, no augmentation' : 'feature_extraction (logistic)';
      rows.push(`| ${label} | ${s(ours[job]!.seconds)} | ${s(usual)} | ${s(cached)} | ${Number.isFinite(fastest) ? `${(fastest / ours[job]!.seconds).toFixed(2)}×` : '—'} | ${ours[job]!.accuracy.toFixed(4)} |`);
    }
    const stageNames = [...new Set(jobs.flatMap((j) => ours[j]!.stages.map((st) => st.stage)))];
    rows.push('', `Stage times (GET /jobs/:id/metrics), ${size} px:`, `| stage | ${jobs.join(' | ')} |`, `|---|${jobs.map(() => '---|').join('')}`);
    for (const name of stageNames) {
      rows.push(`| ${name} | ${jobs.map((j) => ours[j]!.stages.filter((st) => st.stage === name).reduce((a, st) => a + st.seconds, 0).toFixed(2)).join(' | ')} |`);
    }
    for (const job of jobs) rows.push('', `CPU seconds during ${job}: ${Object.entries(ours[job]!.cpu).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
    rows.push('', `Peak RSS so far (VmHWM): ${Object.entries(stats).map(([k, v]) => `${k} ${v.peakMiB.toFixed(0)} MiB`).join(', ')}`);
    tables.push(rows.join('\n'));
    console.log(tables.at(-1));
  }
  await writeFile(path.join(work, 'tables.md'), tables.join('\n'));
} finally {
  await svc.stop(args.log);
}

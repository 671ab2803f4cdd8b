// A sweep against the defaults on Fashion-MNIST at few labels (printed table, not a timed test): one
// fine_tune job with default hyperparameters (only the seed set), then the same random sweep without and
// with ASHA early stopping (search.seed fixed, so both sample the same trials), each through the service
// started the way `npm start` starts it (API + one worker). Every model is scored on held-out t10k images
// through POST /predict, as a user would score it.
//   nice node --import tsx bench/sweeps/fashion-sweep.ts [--per-class 40] [--trials 12] [--test-per-class 30]
//     [--runs defaults,sweep,asha] [--log FILE]
// Sweep: learningRate log 1e-4..3e-3, trainableBlocks [1, 2, 4], augment [true, false], objective valAccuracy
// (on the job's own validation split), 2 parallel trials; ASHA grace period 2 epochs, reduction factor 3.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import type { JobView, SweepSpec, SweepView } from '@graft/spec';
import { fashionLabels, readFashionMnist, takePerClass } from '../engine/bench-data.ts';
import { heldOutAccuracy, startBenchService, until, writeZip } from '../service/bench-service.ts';

const { values: args } = parseArgs({
  options: {
    'per-class': { type: 'string', default: '40' },
    trials: { type: 'string', default: '12' },
    'test-per-class': { type: 'string', default: '30' },
    runs: { type: 'string', default: 'defaults,sweep,asha' },
    log: { type: 'string' },
  },
});
const runs = args.runs!.split(',');
const work = await mkdtemp(path.join(tmpdir(), 'graft-bench-sweep-'));
const svc = await startBenchService(path.join(import.meta.dirname, '../..'), work);
const { http } = svc;

const rows: string[] = [];
try {
  const perClass = Number(args['per-class']);
  const dataset = { url: `file://${svc.datasetsDir}/train.zip` };
  await writeZip(takePerClass(await readFashionMnist('train'), perClass, 1), path.join(svc.datasetsDir, 'train.zip'));
  const t10k = takePerClass(await readFashionMnist('t10k'), Number(args['test-per-class']), 99);
  const test = await Promise.all(
    t10k.pixels.map(async (px, i) => ({
      base64: (await sharp(Buffer.from(px), { raw: { width: t10k.size, height: t10k.size, channels: t10k.channels } }).png().toBuffer()).toString('base64'),
      label: fashionLabels[t10k.labels[i]!]!,
    })),
  );
  await svc.ready();
  rows.push(
    `\n### Fashion-MNIST ${perClass} labels/class (${perClass * 10} images), fine_tune, held-out: ${test.length} t10k images via POST /predict`,
    '| run | wall time | trials (succeeded / pruned / failed) | best trial | its valAccuracy | held-out accuracy |',
    '|---|---|---|---|---|---|',
  );

  if (runs.includes('defaults')) {
    const t0 = performance.now();
    const submitted = await http<JobView>('POST', '/jobs', { method: 'fine_tune', dataset, hyperparameters: { seed: 1 } });
    if (submitted.status !== 202) throw new Error(`POST /jobs: ${submitted.status} ${JSON.stringify(submitted.body)}`);
    const job = await until<JobView>(svc, `/jobs/${submitted.body.id}`, (j) => !['queued', 'running'].includes(j.status));
    const seconds = (performance.now() - t0) / 1000;
    if (job.status !== 'succeeded') throw new Error(`the defaults job ${job.status}: ${JSON.stringify(job.error)}`);
    const chosen = Object.entries(job.resolvedHyperparameters ?? {})
      .filter(([k]) => ['learningRate', 'trainableBlocks', 'augment', 'epochs', 'imageSize'].includes(k))
      .map(([k, c]) => `${k}=${c.value}`)
      .join(' ');
    const acc = await heldOutAccuracy(svc, job.id, test);
    rows.push(`| defaults (${chosen}) | ${seconds.toFixed(0)} s | 1 job | — | — | ${acc.toFixed(4)} |`);
    console.error(rows.at(-1));
  }

  for (const asha of [false, true]) {
    if (!runs.includes(asha ? 'asha' : 'sweep')) continue;
    const spec: SweepSpec = {
      method: 'fine_tune',
      dataset,
      hyperparameters: {},
      search: {
        algorithm: 'random',
        maxTrials: Number(args.trials),
        parallelTrials: 2,
        objective: 'valAccuracy',
        seed: 1,
        space: { learningRate: { min: 1e-4, max: 3e-3, scale: 'log' }, trainableBlocks: [1, 2, 4], augment: [true, false] },
        ...(asha ? { earlyStopping: { type: 'asha' as const, gracePeriod: 2, reductionFactor: 3 } } : {}),
      },
    };
    const t0 = performance.now();
    const submitted = await http<SweepView>('POST', '/sweeps', spec);
    if (submitted.status !== 202) throw new Error(`POST /sweeps: ${submitted.status} ${JSON.stringify(submitted.body)}`);
    const sweep = await until<SweepView>(svc, `/sweeps/${submitted.body.id}`, (s) => !['queued', 'running'].includes(s.status));
    const seconds = (performance.now() - t0) / 1000;
    const count = (st: string) => sweep.trials.filter((t) => t.status === st).length;
    const best = sweep.trials.find((t) => t.jobId === sweep.best?.jobId);
    const acc = best ? await heldOutAccuracy(svc, best.jobId, test) : NaN;
    const hps = best ? Object.entries(best.hyperparameters).map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(3)) : v}`).join(' ') : '—';
    const epochs = sweep.trials.reduce((n, t) => n + t.epochs, 0);
    rows.push(
      `| ${sweep.trials.length}-trial random sweep${asha ? ', ASHA (grace 2, rf 3)' : ''} (${epochs} epochs in all) | ${seconds.toFixed(0)} s | ${count('succeeded')} / ${count('pruned')} / ${count('failed')} | ${hps} | ${best?.objective?.toFixed(4) ?? '—'} | ${acc.toFixed(4)} |`,
    );
    console.error(rows.at(-1));
    for (const t of [...sweep.trials].sort((a, b) => a.index - b.index)) console.error(`  trial ${t.index} ${t.status} ${t.objective?.toFixed(4) ?? '-'} epochs ${t.epochs} ${JSON.stringify(t.hyperparameters)}`);
  }
  console.log(rows.join('\n'));
} finally {
  await svc.stop(args.log);
}

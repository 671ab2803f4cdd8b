// graft-client sweep submit <spec.json> [--data …] [--watch]: starts a hyper-parameter sweep (a local
// archive given as --data is uploaded first) and prints its id; graft-client sweep watch <id>: one line
// per trial that changes state until the sweep ends, then the leaderboard and the best job.
import { readFile } from 'node:fs/promises';
import type { SweepSpec, SweepView, TrialView } from '@graft/spec';
import { UsageError, type CliContext } from '../cli-context.ts';
import { datasetRef } from './submit.ts';

const fmt = (v: number | null) => (v === null ? '-' : v.toFixed(4));
const values = (t: TrialView) => Object.entries(t.hyperparameters).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
const ended = (s: SweepView) => ['succeeded', 'failed', 'cancelled'].includes(s.status);

export async function sweepSubmit(ctx: CliContext, file: string, opts: { data?: string; watch: boolean }): Promise<number> {
  let spec: SweepSpec;
  try {
    spec = JSON.parse(await readFile(file, 'utf8')) as SweepSpec;
  } catch (err) {
    throw new UsageError(`cannot read the sweep spec ${file}: ${(err as Error).message}`);
  }
  if (opts.data) spec.dataset = await datasetRef(ctx, opts.data, '--data');
  const sweep = await ctx.client.postJson<SweepView>('sweeps', spec);
  ctx.out.write(`${sweep.id}\n`);
  return opts.watch ? sweepWatch(ctx, sweep.id) : 0;
}

/** Polls GET /sweeps/{id} (a sweep has no event stream of its own): a line per trial status change; exit code 0 only when it succeeded. */
export async function sweepWatch(ctx: CliContext, id: string, pollMs = 1000): Promise<number> {
  const seen = new Map<string, string>();
  let sweep: SweepView;
  for (;;) {
    sweep = await ctx.client.json<SweepView>(`sweeps/${encodeURIComponent(id)}`);
    for (const t of [...sweep.trials].sort((a, b) => a.index - b.index)) {
      if (seen.get(t.jobId) === t.status) continue;
      seen.set(t.jobId, t.status);
      ctx.out.write(`trial ${t.index} ${t.status}  ${sweep.objective} ${fmt(t.objective)}  epochs ${t.epochs}  ${values(t)}  (job ${t.jobId})\n`);
    }
    if (ended(sweep)) break;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  ctx.out.write(`\nleaderboard (${sweep.objective}):\n`);
  sweep.trials.forEach((t, rank) => ctx.out.write(`${String(rank + 1).padStart(3)}. ${fmt(t.objective)}  ${t.status.padEnd(9)}  ${values(t)}  ${t.jobId}\n`));
  if (sweep.status === 'succeeded' && sweep.best) {
    ctx.out.write(`sweep ${sweep.id} succeeded; best job ${sweep.best.jobId} (${sweep.objective} ${fmt(sweep.best.objective)})\n`);
    return 0;
  }
  ctx.err.write(`sweep ${sweep.id} ${sweep.status}${sweep.error ? `: ${sweep.error.code}: ${sweep.error.message}` : ''}\n`);
  return 1;
}

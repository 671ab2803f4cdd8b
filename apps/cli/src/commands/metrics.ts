// graft-client metrics <jobId>: the per-epoch table and the final evaluation (or --json as served).
import type { MetricsView } from '@graft/spec';
import type { CliContext } from '../cli-context.ts';
import { describeEpoch } from './watch.ts';

export async function metrics(ctx: CliContext, jobId: string, opts: { json: boolean }): Promise<number> {
  const view = await ctx.client.json<MetricsView>(`jobs/${encodeURIComponent(jobId)}/metrics`);
  if (opts.json) {
    ctx.out.write(`${JSON.stringify(view, null, 2)}\n`);
    return 0;
  }
  ctx.out.write(`job ${view.jobId}: ${view.status}, ${view.epochs.length} epoch(s)\n`);
  for (const m of view.epochs) ctx.out.write(`  ${describeEpoch(m)}\n`);
  const ev = view.evaluation;
  if (!ev) {
    ctx.out.write('no evaluation yet\n');
    return 0;
  }
  ctx.out.write(`evaluation (${ev.split}): accuracy ${ev.accuracy.toFixed(4)}  macro-F1 ${ev.macroF1.toFixed(4)}`);
  for (const [k, v] of Object.entries(ev.topK)) ctx.out.write(`  top-${k} ${v.toFixed(4)}`);
  ctx.out.write('\n');
  const width = Math.max(5, ...ev.perClass.map((c) => c.label.length));
  ctx.out.write(`  ${'class'.padEnd(width)}  precision  recall     f1  support\n`);
  for (const c of ev.perClass) {
    ctx.out.write(`  ${c.label.padEnd(width)}  ${c.precision.toFixed(4).padStart(9)}  ${c.recall.toFixed(4).padStart(6)}  ${c.f1.toFixed(4).padStart(5)}  ${String(c.support).padStart(7)}\n`);
  }
  return 0;
}

// graft-client watch <jobId>: follows the job's event stream with a progress bar and one line per
// finished epoch; resolves to the final job (exit code 0 only when it succeeded).
import type { EpochMetrics, JobView } from '@graft/spec';
import type { CliContext } from '../cli-context.ts';
import { ProgressBar } from '../progress-bar.ts';
import { readEvents } from '../sse.ts';

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v.toFixed(4));

export function describeEpoch(m: EpochMetrics): string {
  const extra = Object.entries(m.extra ?? {})
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join('  ');
  return `epoch ${m.epoch}: loss ${fmt(m.loss)}  acc ${fmt(m.accuracy)}  val_loss ${fmt(m.valLoss)}  val_acc ${fmt(m.valAccuracy)}${extra ? `  ${extra}` : ''}`;
}

export async function watch(ctx: CliContext, jobId: string): Promise<number> {
  const res = await ctx.client.request(`jobs/${encodeURIComponent(jobId)}/events`, { headers: { accept: 'text/event-stream' } });
  const bar = new ProgressBar(ctx.out);
  let job: JobView | null = null;
  for await (const msg of readEvents(res)) {
    if (msg.event === 'epoch') {
      bar.done();
      ctx.out.write(`${describeEpoch(JSON.parse(msg.data) as EpochMetrics)}\n`);
    } else if (msg.event === 'job') {
      job = JSON.parse(msg.data) as JobView;
      bar.update(job.progress, job.stage ? `${job.status} · ${job.stage}` : job.status);
    }
  }
  bar.done();
  if (!job) {
    ctx.err.write(`The event stream of job ${jobId} ended without news; try again\n`);
    return 1;
  }
  if (job.status === 'succeeded') {
    ctx.out.write(`job ${job.id} succeeded (classes: ${job.classes?.join(', ') ?? '-'})\n`);
    return 0;
  }
  ctx.err.write(`job ${job.id} ${job.status}${job.error ? `: ${job.error.code}: ${job.error.message}` : ''}\n`);
  return 1;
}

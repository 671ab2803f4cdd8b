// graft-client submit --method m --data <url | archive file | dataset id> [...]: uploads local
// archives first, submits the job and prints its id (then follows it with --watch).
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DatasetRef, Hyperparameters, JobSpec, JobView, Method } from '@graft/spec';
import { UsageError, type CliContext } from '../cli-context.ts';
import { watch } from './watch.ts';

export interface SubmitOptions {
  method?: string;
  data?: string;
  source?: string;
  validation?: string;
  backbone?: string;
  spec?: string;
  hyperparameters: Hyperparameters;
  watch: boolean;
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A URL stays a URL, an existing file is uploaded (POST /datasets), a uuid is an uploaded dataset's id. */
export async function datasetRef(ctx: CliContext, value: string, flag: string): Promise<DatasetRef> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return { url: value };
  const file = await stat(value).catch(() => null);
  if (file?.isFile()) {
    const form = new FormData();
    form.set('file', new Blob([await readFile(value)]), path.basename(value));
    ctx.err.write(`uploading ${value} (${file.size} bytes)…\n`);
    const { id } = await ctx.client.postForm<{ id: string }>('datasets', form);
    return { id };
  }
  if (uuid.test(value)) return { id: value };
  throw new UsageError(`${flag} ${value} is not a URL, an existing archive file or an uploaded dataset id`);
}

export async function submit(ctx: CliContext, opts: SubmitOptions): Promise<number> {
  const base: Partial<JobSpec> = opts.spec ? (JSON.parse(await readFile(opts.spec, 'utf8')) as Partial<JobSpec>) : {};
  const method = (opts.method ?? base.method) as Method | undefined;
  if (!method) throw new UsageError('--method is required (fine_tune, feature_extraction, multi_task, domain_adaptation)');
  if (!opts.data && !base.dataset) throw new UsageError('--data is required (a URL, an archive file or an uploaded dataset id)');
  const spec: JobSpec = {
    ...base,
    method,
    dataset: opts.data ? await datasetRef(ctx, opts.data, '--data') : base.dataset!,
  };
  if (opts.source) spec.source = await datasetRef(ctx, opts.source, '--source');
  if (opts.validation) spec.validation = await datasetRef(ctx, opts.validation, '--validation');
  if (opts.backbone) spec.backbone = opts.backbone;
  if (Object.keys(opts.hyperparameters).length) spec.hyperparameters = { ...base.hyperparameters, ...opts.hyperparameters };
  const job = await ctx.client.postJson<JobView>('jobs', spec);
  ctx.out.write(`${job.id}\n`);
  return opts.watch ? watch(ctx, job.id) : 0;
}

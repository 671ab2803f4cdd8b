// Parses the command line and runs one command; returns the exit code (0 ok, 1 failed, 2 usage).
import { parseArgs } from 'node:util';
import type { Hyperparameters } from '@graft/spec';
import { ApiClient, ApiError } from './api-client.ts';
import { resolveApiKey } from './api-key.ts';
import { UsageError, type Output } from './cli-context.ts';
import { download } from './commands/download.ts';
import { metrics } from './commands/metrics.ts';
import { predict } from './commands/predict.ts';
import { submit } from './commands/submit.ts';
import { sweepSubmit, sweepWatch } from './commands/sweep.ts';
import { watch } from './commands/watch.ts';

export const usage = `graft-client <command> [options]   (API at GRAFT_URL or --url, default http://127.0.0.1:3000;
                                   key from GRAFT_API_KEY, else var/admin-key written by npm start)

  submit   --method <m> --data <url|archive|datasetId> [--source …] [--validation …] [--backbone id]
           [--epochs n] [--batch-size n] [--learning-rate x] [--image-size n] [--trainable-blocks n|all]
           [--seed n] [--spec job.json] [--watch]          prints the job id
  watch    <jobId>                                       progress bar until the job ends
  metrics  <jobId> [--json]                              per-epoch metrics and evaluation
  predict  <jobId> <image file|URL>... [--top-k n] [--json]
  download <jobId> [--format tfjs|onnx] [--out file]     the trained model
  sweep submit <sweep.json> [--data <url|archive|datasetId>] [--watch]
                                                         starts a hyper-parameter sweep, prints its id
  sweep watch <sweepId>                                  trials as they end, then the leaderboard
`;

const options = {
  url: { type: 'string' },
  method: { type: 'string' },
  data: { type: 'string' },
  source: { type: 'string' },
  validation: { type: 'string' },
  backbone: { type: 'string' },
  spec: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  'learning-rate': { type: 'string' },
  'image-size': { type: 'string' },
  'trainable-blocks': { type: 'string' },
  seed: { type: 'string' },
  watch: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  'top-k': { type: 'string' },
  format: { type: 'string', default: 'tfjs' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function number(flag: string, raw: string | undefined, integer = true): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new UsageError(`--${flag} ${raw} must be a ${integer ? 'whole ' : ''}number`);
  return n;
}

function hyperparameters(v: Record<string, string | boolean | undefined>): Hyperparameters {
  const h: Hyperparameters = {};
  const set = <K extends keyof Hyperparameters>(k: K, val: Hyperparameters[K] | undefined) => {
    if (val !== undefined) h[k] = val;
  };
  set('epochs', number('epochs', v.epochs as string | undefined));
  set('batchSize', number('batch-size', v['batch-size'] as string | undefined));
  set('learningRate', number('learning-rate', v['learning-rate'] as string | undefined, false));
  set('imageSize', number('image-size', v['image-size'] as string | undefined));
  set('seed', number('seed', v.seed as string | undefined));
  const tb = v['trainable-blocks'] as string | undefined;
  set('trainableBlocks', tb === 'all' ? 'all' : number('trainable-blocks', tb));
  return h;
}

function one(positionals: string[], what: string): string {
  const [value] = positionals;
  if (!value) throw new UsageError(`missing ${what}`);
  return value;
}

export async function runCli(argv: string[], io: { out: Output; err: Output; env: Record<string, string | undefined> }): Promise<number> {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    const [command, ...args] = positionals;
    if (values.help || !command) {
      io.out.write(usage);
      return values.help ? 0 : 2;
    }
    const ctx = { client: new ApiClient(values.url ?? io.env.GRAFT_URL ?? 'http://127.0.0.1:3000', resolveApiKey(io.env)), out: io.out, err: io.err };
    switch (command) {
      case 'submit':
        return await submit(ctx, {
          method: values.method,
          data: values.data,
          source: values.source,
          validation: values.validation,
          backbone: values.backbone,
          spec: values.spec,
          hyperparameters: hyperparameters(values),
          watch: values.watch,
        });
      case 'watch':
        return await watch(ctx, one(args, 'job id'));
      case 'metrics':
        return await metrics(ctx, one(args, 'job id'), { json: values.json });
      case 'predict': {
        const [jobId, ...images] = args;
        if (!jobId || images.length === 0) throw new UsageError('predict needs a job id and at least one image');
        return await predict(ctx, jobId, images, { topK: number('top-k', values['top-k']), json: values.json });
      }
      case 'download': {
        if (values.format !== 'tfjs' && values.format !== 'onnx') throw new UsageError('--format must be tfjs or onnx');
        return await download(ctx, one(args, 'job id'), { format: values.format, out: values.out });
      }
      case 'sweep': {
        const [sub] = args;
        if (sub === 'submit') return await sweepSubmit(ctx, one(args.slice(1), 'sweep spec file'), { data: values.data, watch: values.watch });
        if (sub === 'watch') return await sweepWatch(ctx, one(args.slice(1), 'sweep id'));
        throw new UsageError(`unknown sweep command '${sub ?? ''}': use sweep submit <sweep.json> or sweep watch <sweepId>`);
      }
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err.write(`${(err as Error).message}\n\n${usage}`);
      return 2;
    }
    if (err instanceof ApiError) {
      io.err.write(`error: ${err.code}: ${err.message}\n`);
      return 1;
    }
    io.err.write(`error: ${(err as Error).message}\n`);
    return 1;
  }
}

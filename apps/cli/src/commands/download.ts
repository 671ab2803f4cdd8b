// graft-client download <jobId> [--format tfjs|onnx] [--out file]: saves the model file.
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { CliContext } from '../cli-context.ts';

export async function download(ctx: CliContext, jobId: string, opts: { format: 'tfjs' | 'onnx'; out?: string }): Promise<number> {
  const res = await ctx.client.request(`jobs/${encodeURIComponent(jobId)}/model?format=${opts.format}`);
  const out = opts.out ?? (opts.format === 'onnx' ? `graft-${jobId}.onnx` : `graft-${jobId}-tfjs.zip`);
  await pipeline(Readable.fromWeb(res.body as WebReadableStream), createWriteStream(out));
  ctx.out.write(`${out}\n`);
  return 0;
}

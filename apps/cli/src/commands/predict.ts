// graft-client predict <jobId> <image file or URL>...: local files go up as multipart; if any image
// is a URL the request is JSON (files as base64, URLs for the server to fetch).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { PredictImage, PredictResponse } from '@graft/spec';
import type { CliContext } from '../cli-context.ts';

const isUrl = (s: string) => /^https?:\/\//i.test(s);

export async function predict(ctx: CliContext, jobId: string, images: string[], opts: { topK?: number; json: boolean }): Promise<number> {
  let result: PredictResponse;
  if (images.some(isUrl)) {
    const refs: PredictImage[] = await Promise.all(images.map(async (img) => (isUrl(img) ? { url: img } : { base64: (await readFile(img)).toString('base64') })));
    result = await ctx.client.postJson<PredictResponse>('predict', { jobId, images: refs, ...(opts.topK ? { topK: opts.topK } : {}) });
  } else {
    const form = new FormData();
    form.set('jobId', jobId);
    if (opts.topK) form.set('topK', String(opts.topK));
    for (const file of images) form.append('image', new Blob([await readFile(file)]), path.basename(file));
    result = await ctx.client.postForm<PredictResponse>('predict', form);
  }
  if (opts.json) {
    ctx.out.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  result.predictions.forEach((p, i) => {
    ctx.out.write(`${images[i]}\t${p.label}\t${p.score.toFixed(4)}\n`);
    for (const alt of p.topK.slice(1)) ctx.out.write(`\t${alt.label}\t${alt.score.toFixed(4)}\n`);
  });
  return 0;
}

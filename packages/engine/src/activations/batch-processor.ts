// One batch of images -> prefix activations for every view; the same code runs in worker threads and,
// with one thread, in the caller's thread.
import { ErrorCode, GraftError } from '@graft/spec';
import { decodeViews } from '../preprocess/augment.ts';
import type { Preprocessing } from '../preprocess/decode-image.ts';
import type { PrefixRunner } from './prefix-runner.ts';

/** What differs between the image sets one pool serves: the augmented views (and their seed). */
export interface ViewOptions {
  augmentViews: number;
  seed: number;
}

/** Per view, the images of one batch laid out for the runner (n × s × s × 3). */
export type DecodedBatch = { views: Float32Array[]; n: number };

/**
 * A batch in two stages so that callers can overlap them: decode() runs in sharp's own threads while
 * the previous batch's forward() occupies this thread.
 */
export function batchProcessor(runner: PrefixRunner, preprocessing: Preprocessing, maxPixels?: number) {
  const s = preprocessing.imageSize;
  const pixels = s * s * 3;
  return {
    async decode(files: string[], firstIndex: number, o: ViewOptions): Promise<DecodedBatch> {
      const decoded = await Promise.all(
        files.map((file, i) =>
          decodeViews(file, preprocessing, { augmentViews: o.augmentViews, seed: o.seed, index: firstIndex + i, maxPixels }).catch((err: Error) => {
            throw err instanceof GraftError ? new GraftError(err.code, `${file}: ${err.message}`) : new GraftError(ErrorCode.internal, `${file}: ${err.message}`);
          }),
        ),
      );
      const views = Array.from({ length: o.augmentViews + 1 }, (_, v) => {
        const batch = new Float32Array(files.length * pixels);
        decoded.forEach((imageViews, i) => batch.set(imageViews[v], i * pixels));
        return batch;
      });
      return { views, n: files.length };
    },
    /** Per view, the activations of the batch's images, row after row. */
    async forward(batch: DecodedBatch): Promise<Float32Array[]> {
      const out: Float32Array[] = [];
      for (const v of batch.views) out.push(await runner.run(v, batch.n));
      return out;
    },
  };
}

// One batch of images -> prefix activations for every view; the same code runs in worker threads and,
// with one thread, in the caller's thread.
import { undecodableReason } from '@graft/datasets';
import { ErrorCode, GraftError } from '@graft/spec';
import { decodeViews } from '../preprocess/augment.ts';
import type { ImageSource, Preprocessing } from '../preprocess/decode-image.ts';
import type { PrefixRunner } from './prefix-runner.ts';

/** What differs between the image sets one pool serves: the augmented views (and their seed). */
export interface ViewOptions {
  augmentViews: number;
  seed: number;
}

/** An image whose compressed data the decoder refused (damaged, truncated): its row is left out of the set. */
export interface Undecodable {
  /** position in the image set */
  index: number;
  /** in a user's words, as a dataset's skipped entries are */
  reason: string;
}

/** Per view, the images of one batch laid out for the runner (n × s × s × 3); an undecodable image's rows are zeros. */
export type DecodedBatch = { views: Float32Array[]; n: number; undecodable: Undecodable[] };

/**
 * A batch in two stages so that callers can overlap them: decode() runs in sharp's own threads while
 * the previous batch's forward() occupies this thread. This decode is the only one an image gets: a dataset
 * prepared for training (decodeInEngine) was checked by content and header only, so damaged data is found here.
 */
export function batchProcessor(runner: PrefixRunner, preprocessing: Preprocessing, maxPixels?: number) {
  const s = preprocessing.imageSize;
  const pixels = s * s * 3;
  return {
    async decode(images: ImageSource[], names: string[], firstIndex: number, o: ViewOptions): Promise<DecodedBatch> {
      const undecodable: Undecodable[] = [];
      const decoded = await Promise.all(
        images.map((image, i) =>
          decodeViews(image, preprocessing, { augmentViews: o.augmentViews, seed: o.seed, index: firstIndex + i, maxPixels }).catch((err: Error) => {
            const name = names[i];
            // a readable header with damaged data behind it is skipped; what is no image at all stays an error
            const { decoder, format } = (err instanceof GraftError && (err.details as { decoder?: string; format?: string })) || {};
            if (err instanceof GraftError && err.code === ErrorCode.unsupportedMediaType && format) {
              undecodable.push({ index: firstIndex + i, reason: undecodableReason(format.toUpperCase(), new Error(decoder ?? err.message)) });
              return null;
            }
            throw err instanceof GraftError ? new GraftError(err.code, `${name}: ${err.message}`) : new GraftError(ErrorCode.internal, `${name}: ${err.message}`);
          }),
        ),
      );
      const views = Array.from({ length: o.augmentViews + 1 }, (_, v) => {
        const batch = new Float32Array(images.length * pixels);
        decoded.forEach((imageViews, i) => imageViews && batch.set(imageViews[v], i * pixels));
        return batch;
      });
      return { views, n: images.length, undecodable };
    },
    /** Per view, the activations of the batch's images, row after row. */
    async forward(batch: DecodedBatch): Promise<Float32Array[]> {
      const out: Float32Array[] = [];
      for (const v of batch.views) out.push(await runner.run(v, batch.n));
      return out;
    },
  };
}

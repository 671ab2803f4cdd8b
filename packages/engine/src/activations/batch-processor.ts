// One batch of images -> prefix activations for every view; the same code runs in worker threads and,
// with one thread, in the caller's thread.
import { undecodableReason } from '@graft/datasets';
import { ErrorCode, GraftError } from '@graft/spec';
import { decodeViews, mirrorPixels } from '../preprocess/augment.ts';
import { defaultMaxPixels, normalizationOf, type ImageSource, type Preprocessing } from '../preprocess/decode-image.ts';
import { normalizePixels } from '../preprocess/normalization.ts';
import { decodePlainPng } from '../preprocess/plain-png.ts';
import { batchable, enlargeSquares } from '../preprocess/square-batch.ts';
import type { PrefixRunner } from './prefix-runner.ts';

const imagesPerPipeline = 8;

/** What differs between the image sets one pool serves: the augmented views (and their seed), and the mirror view. */
export interface ViewOptions {
  augmentViews: number;
  seed: number;
  /** a last view holding the horizontal mirror of view 0 (flipViews); default none */
  mirror?: boolean;
}

/** Views a request yields per image: the plain one, the augmented ones, and the mirror. */
export const viewCount = (o: ViewOptions): number => o.augmentViews + 1 + (o.mirror ? 1 : 0);

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
      const views = Array.from({ length: viewCount(o) }, () => new Float32Array(images.length * pixels));
      // Plain PNGs of one side smaller than the training size are enlarged together, with the same pixels
      // (square-batch.ts); everything else, and every augmented view, takes its own pipeline.
      const together = new Map<string, { side: number; channels: 1 | 3; at: number[]; pixels: Uint8Array[] }>();
      const alone: number[] = [];
      images.forEach((image, i) => {
        const png = o.augmentViews === 0 && typeof image !== 'string' ? decodePlainPng(image, maxPixels ?? defaultMaxPixels) : null;
        if (!png || png.width !== png.height || !batchable(png.width, s)) return alone.push(i);
        const key = `${png.width}/${png.channels}`;
        const group = together.get(key) ?? together.set(key, { side: png.width, channels: png.channels, at: [], pixels: [] }).get(key)!;
        group.at.push(i);
        group.pixels.push(png.data);
      });
      const norm = normalizationOf(preprocessing);
      await Promise.all([
        // a few pipelines a group, so that sharp's threads share a batch when a core is free (one costs ~4 ms an image at 224 px)
        ...[...together.values()].flatMap((g) =>
          Array.from({ length: Math.ceil(g.at.length / imagesPerPipeline) }, async (_, c) => {
            const [from, to] = [c * imagesPerPipeline, (c + 1) * imagesPerPipeline];
            const rgb = await enlargeSquares(g.pixels.slice(from, to), g.side, g.channels, s);
            g.at.slice(from, to).forEach((i, k) => normalizePixels(rgb[k]!, norm, 1, views[0]!.subarray(i * pixels, (i + 1) * pixels)));
          }),
        ),
        ...alone.map(async (i) => {
          const imageViews = await decodeViews(images[i]!, preprocessing, { augmentViews: o.augmentViews, seed: o.seed, index: firstIndex + i, maxPixels }).catch((err: Error) => {
            const name = names[i];
            // a readable header with damaged data behind it is skipped; what is no image at all stays an error
            const { decoder, format } = (err instanceof GraftError && (err.details as { decoder?: string; format?: string })) || {};
            if (err instanceof GraftError && err.code === ErrorCode.unsupportedMediaType && format) {
              undecodable.push({ index: firstIndex + i, reason: undecodableReason(format.toUpperCase(), new Error(decoder ?? err.message)) });
              return null;
            }
            throw err instanceof GraftError ? new GraftError(err.code, `${name}: ${err.message}`) : new GraftError(ErrorCode.internal, `${name}: ${err.message}`);
          });
          imageViews?.forEach((v, k) => views[k]!.set(v, i * pixels));
        }),
      ]);
      // the mirror is a flop of view 0's decoded pixels, not a second decode (an undecodable image's zeros stay zeros)
      if (o.mirror) images.forEach((_, i) => mirrorPixels(views[0]!.subarray(i * pixels, (i + 1) * pixels), s, views.at(-1)!.subarray(i * pixels, (i + 1) * pixels)));
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

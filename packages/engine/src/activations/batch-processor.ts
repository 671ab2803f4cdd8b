// One batch of images -> prefix activations for every view; the same code runs in worker threads and,
// with one thread, in the caller's thread.
import { ErrorCode, GraftError } from '@graft/spec';
import { decodeViews } from '../preprocess/augment.ts';
import type { Preprocessing } from '../preprocess/decode-image.ts';
import type { PrefixRunner } from './prefix-runner.ts';

export interface BatchOptions {
  preprocessing: Preprocessing;
  augmentViews: number;
  seed: number;
  maxPixels?: number;
}

/** Returns, per view, the activations of files[0..n) laid out row after row. */
export function batchProcessor(runner: PrefixRunner, o: BatchOptions) {
  const s = o.preprocessing.imageSize;
  const pixels = s * s * 3;
  return async (files: string[], firstIndex: number): Promise<Float32Array[]> => {
    const decoded = await Promise.all(
      files.map((file, i) =>
        decodeViews(file, o.preprocessing, { augmentViews: o.augmentViews, seed: o.seed, index: firstIndex + i, maxPixels: o.maxPixels }).catch((err: Error) => {
          throw err instanceof GraftError ? new GraftError(err.code, `${file}: ${err.message}`) : new GraftError(ErrorCode.internal, `${file}: ${err.message}`);
        }),
      ),
    );
    const out: Float32Array[] = [];
    for (let v = 0; v <= o.augmentViews; v++) {
      const batch = new Float32Array(files.length * pixels);
      decoded.forEach((views, i) => batch.set(views[v], i * pixels));
      out.push(await runner.run(batch, files.length));
    }
    return out;
  };
}

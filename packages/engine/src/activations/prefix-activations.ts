// computePrefixActivations: every image (and each augmentation view) through the frozen prefix once,
// in parallel worker threads that each hold their own runner, streamed batch by batch so only the
// activations are kept — never the images. The result is what every epoch then trains on. A run that
// needs several image sets opens one PrefixPool for all of them instead (train.ts).
import { availableParallelism } from 'node:os';
import type * as tf from '@tensorflow/tfjs';
import type { Preprocessing } from '../preprocess/decode-image.ts';
import { defaultBatchSize, openPrefixPool, type ActivationRequest, type PrefixActivations } from './prefix-pool.ts';
import type { PrefixRunnerSpec } from './prefix-runner.ts';

export interface PrefixActivationsInput extends ActivationRequest {
  /** the frozen prefix (Backbone.split().prefix); null = whole network trains, the activations are the images */
  prefix: tf.LayersModel | null;
  preprocessing: Preprocessing;
  /** worker threads; 1 = in the calling thread. Default: one per core, fewer for small inputs. */
  threads?: number;
  batchSize?: number;
  maxPixels?: number;
  /** another forward path for the prefix (e.g. ONNX Runtime); default TF.js on `prefix` */
  runner?: PrefixRunnerSpec;
}

/** Threads worth starting for `images` images: one per core, but no more than there are batches. */
export function poolThreads(images: number, batchSize = defaultBatchSize, threads = availableParallelism()): number {
  return Math.max(1, Math.min(threads, Math.ceil(images / batchSize)));
}

export async function computePrefixActivations(input: PrefixActivationsInput): Promise<PrefixActivations> {
  const { prefix, preprocessing, batchSize, maxPixels, runner } = input;
  const pool = openPrefixPool({ prefix, preprocessing, batchSize, maxPixels, runner, threads: poolThreads(input.files.length, batchSize, input.threads) });
  try {
    return await pool.compute(input);
  } finally {
    await pool.close();
  }
}

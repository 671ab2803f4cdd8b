// A job's predictions: load (or reuse) its model, decode the images with the model's preprocessing,
// run them in the inference pool and rank the classes.
import { GraftError } from '@graft/spec';
import { checkpointPrefix } from '@graft/storage';
import { readCheckpoint, type ReadObject } from './checkpoint-files.ts';
import { decodeBatch } from './image-input.ts';
import { InferencePool, type InferencePoolOptions } from './inference-pool.ts';
import { ModelCache } from './model-cache.ts';
import type { ServingSettings } from './serving-settings.ts';

export interface ScoredLabel {
  label: string;
  score: number;
}

export interface Prediction extends ScoredLabel {
  topK: ScoredLabel[];
}

/** Ranks each row of n × labels.length probabilities; the best class is label/score. */
export function rankPredictions(probs: Float32Array, n: number, labels: string[], k: number): Prediction[] {
  const classes = labels.length;
  if (probs.length !== n * classes) {
    throw new Error(`the model gives ${probs.length / n} outputs per image but its metadata lists ${classes} labels`);
  }
  const out: Prediction[] = [];
  for (let i = 0; i < n; i++) {
    const row = probs.subarray(i * classes, (i + 1) * classes);
    const ranked = [...row.keys()].sort((a, b) => row[b]! - row[a]!).slice(0, k);
    const topK = ranked.map((c) => ({ label: labels[c]!, score: row[c]! }));
    out.push({ ...topK[0]!, topK });
  }
  return out;
}

export interface PredictorOptions extends Pick<ServingSettings, 'threads' | 'maxBatch' | 'maxImagePixels' | 'cacheMaxModels' | 'cacheMaxBytes'> {
  readObject: ReadObject;
  /** TF.js backend of the inference threads (default wasm) */
  backend?: string;
  /** serve through ONNX Runtime when it can run the model (default true) */
  onnx?: boolean;
  logger?: InferencePoolOptions['logger'];
}

export class Predictor {
  readonly cache: ModelCache;
  readonly pool: InferencePool;

  constructor(private readonly opts: PredictorOptions) {
    this.pool = new InferencePool({ threads: opts.threads, maxBatch: opts.maxBatch, backend: opts.backend, onnx: opts.onnx, logger: opts.logger });
    this.cache = new ModelCache({
      load: (jobId) => readCheckpoint(opts.readObject, checkpointPrefix(jobId)),
      maxModels: opts.cacheMaxModels,
      maxBytes: opts.cacheMaxBytes,
      onEvict: (model) => this.pool.release(model.key),
    });
  }

  /** topK defaults to min(3, number of classes). */
  async predict(jobId: string, images: Buffer[], topK?: number): Promise<Prediction[]> {
    if (images.length === 0) throw new GraftError('validation_error', 'images must hold at least one image.');
    if (images.length > this.opts.maxBatch) {
      throw new GraftError('payload_too_large', `${images.length} images in one request; at most ${this.opts.maxBatch} per request.`);
    }
    const model = await this.cache.get(jobId);
    const { labels, preprocessing } = model.checkpoint.metadata;
    topK ??= Math.min(3, labels.length);
    if (!Number.isInteger(topK) || topK < 1 || topK > labels.length) {
      throw new GraftError('validation_error', `topK must be a whole number from 1 to ${labels.length} (the model's class count).`);
    }
    const input = await decodeBatch(images, preprocessing, { maxImagePixels: this.opts.maxImagePixels });
    const probs = await this.pool.run(model, input, images.length);
    return rankPredictions(probs, images.length, labels, topK);
  }

  async close(): Promise<void> {
    this.cache.clear();
    await this.pool.close();
  }
}

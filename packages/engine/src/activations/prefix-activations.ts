// computePrefixActivations: every image (and each augmentation view) through the frozen prefix once,
// in parallel worker threads that each hold their own runner, streamed batch by batch so only the
// activations are kept — never the images. The result is what every epoch then trains on.
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type * as tf from '@tensorflow/tfjs';
import { ErrorCode, GraftError, type ErrorCode as Code } from '@graft/spec';
import type { Preprocessing } from '../preprocess/decode-image.ts';
import { startTsWorker } from '../runtime/ts-worker.ts';
import { batchProcessor, type BatchOptions } from './batch-processor.ts';
import type { WorkerInit, WorkerReply, WorkerRequest } from './activation-worker.ts';
import { createRunner, type PrefixRunner, type PrefixRunnerSpec } from './prefix-runner.ts';
import { tfjsRunner, tfjsRunnerSpec } from './tfjs-prefix-runner.ts';

export interface PrefixActivationsInput {
  /** the frozen prefix (Backbone.split().prefix); null = whole network trains, the activations are the images */
  prefix: tf.LayersModel | null;
  files: string[];
  preprocessing: Preprocessing;
  /** augmented views per image besides the plain view 0 (default 0) */
  augmentViews?: number;
  seed?: number;
  /** worker threads; 1 = in the calling thread. Default: one per core, fewer for small inputs. */
  threads?: number;
  batchSize?: number;
  maxPixels?: number;
  /** another forward path for the prefix (e.g. ONNX Runtime); default TF.js on `prefix` */
  runner?: PrefixRunnerSpec;
  signal?: AbortSignal;
  /** fraction of images done, 0…1 */
  onProgress?: (fraction: number) => unknown;
}

export interface PrefixActivations {
  /** views[v]: count × prod(shape) floats, image i at row i; view 0 un-augmented */
  views: Float32Array[];
  /** per-image activation shape */
  shape: number[];
  count: number;
}

const defaultBatchSize = 32;

function cancelled(): GraftError {
  return new GraftError(ErrorCode.cancelled, 'The job was cancelled.');
}

/** Receives the per-image output shape once, then each batch's views in any order. */
interface Collector {
  begin(shape: number[]): void;
  store(batch: number, views: Float32Array[]): void;
}

async function runInThread(runner: PrefixRunner, o: BatchOptions, files: string[], batchSize: number, c: Collector, signal?: AbortSignal) {
  const stages = batchProcessor(runner, o);
  c.begin(runner.outputShape);
  const decode = (start: number) => {
    const p = stages.decode(files.slice(start, start + batchSize), start);
    p.catch(() => {}); // awaited in turn below; an abort may leave it unawaited
    return p;
  };
  let next = files.length > 0 ? decode(0) : null;
  for (let b = 0, start = 0; next; b++, start += batchSize) {
    if (signal?.aborted) throw cancelled();
    const decoded = await next;
    // decode the following batch while this one runs forward
    next = start + batchSize < files.length ? decode(start + batchSize) : null;
    c.store(b, await stages.forward(decoded));
  }
}

async function runInWorkers(
  spec: PrefixRunnerSpec,
  o: BatchOptions,
  files: string[],
  batchSize: number,
  threads: number,
  c: Collector,
  signal: AbortSignal | undefined,
): Promise<void> {
  const nBatches = Math.ceil(files.length / batchSize);
  const workers: Worker[] = [];
  let next = 0;
  let done = 0;
  let begun = false;
  try {
    await new Promise<void>((resolve, reject) => {
      const stop = (err: Error) => reject(err);
      const onAbort = () => stop(cancelled());
      if (signal?.aborted) return stop(cancelled());
      signal?.addEventListener('abort', onAbort, { once: true });
      const dispatch = (w: Worker) => {
        if (next >= nBatches) return;
        const b = next++;
        const req: WorkerRequest = { batch: b, files: files.slice(b * batchSize, (b + 1) * batchSize), firstIndex: b * batchSize };
        w.postMessage(req);
      };
      const init: WorkerInit = { spec, options: o };
      for (let t = 0; t < threads; t++) {
        const w = startTsWorker(new URL('./activation-worker.ts', import.meta.url), { workerData: init });
        workers.push(w);
        w.on('message', (msg: WorkerReply) => {
          if (msg.type === 'error') return stop(msg.code ? new GraftError(msg.code as Code, msg.message) : new Error(`activation worker: ${msg.message}`));
          if (msg.type === 'ready') {
            if (!begun) c.begin(msg.outputShape);
            begun = true;
            // two in flight per worker: one decoding while the other runs forward
            dispatch(w);
            return dispatch(w);
          }
          c.store(msg.batch, msg.views);
          if (++done === nBatches) {
            signal?.removeEventListener('abort', onAbort);
            return resolve();
          }
          dispatch(w);
        });
        w.on('error', stop);
        w.on('exit', (code) => {
          if (done < nBatches && code !== 0) stop(new Error(`activation worker exited with code ${code}`));
        });
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

export async function computePrefixActivations(input: PrefixActivationsInput): Promise<PrefixActivations> {
  const { files, preprocessing, prefix } = input;
  const batchSize = input.batchSize ?? defaultBatchSize;
  const options: BatchOptions = { preprocessing, augmentViews: input.augmentViews ?? 0, seed: input.seed ?? 0, maxPixels: input.maxPixels };
  const nViews = options.augmentViews + 1;
  const threads = Math.max(1, Math.min(input.threads ?? availableParallelism(), Math.ceil(files.length / batchSize)));
  if (input.signal?.aborted) throw cancelled();

  let views: Float32Array[] = [];
  let shape: number[] = [];
  let rowSize = 0;
  let stored = 0;
  const collector: Collector = {
    begin(outputShape) {
      shape = outputShape;
      rowSize = shape.reduce((a, b) => a * b, 1);
      views = Array.from({ length: nViews }, () => new Float32Array(files.length * rowSize));
    },
    store(batch, out) {
      out.forEach((v, i) => views[i].set(v, batch * batchSize * rowSize));
      stored += out[0].length / rowSize;
      input.onProgress?.(stored / files.length);
    },
  };

  if (threads === 1 || files.length === 0) {
    const runner = input.runner ? await createRunner(input.runner, preprocessing.imageSize) : tfjsRunner(prefix, preprocessing.imageSize);
    try {
      await runInThread(runner, options, files, batchSize, collector, input.signal);
    } finally {
      await runner.dispose();
    }
  } else {
    await runInWorkers(input.runner ?? (await tfjsRunnerSpec(prefix)), options, files, batchSize, threads, collector, input.signal);
  }
  return { views, shape, count: files.length };
}

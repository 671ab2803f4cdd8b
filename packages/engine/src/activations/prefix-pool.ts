// One pool of prefix runners for a whole training run: its worker threads boot once (~1 s each: tsx,
// sharp, the runtime, an ONNX Runtime session) and then compute every image set the run needs (train,
// validation, source, target) in turn. Threads start at once (or come booted from the reserve a service keeps,
// thread-reserve.ts), so they boot while the caller still exports the prefix; the runner spec may arrive later. With one thread everything runs in
// the calling thread instead.
import type { Worker } from 'node:worker_threads';
import type * as tf from '@tensorflow/tfjs';
import { ErrorCode, GraftError, type ErrorCode as Code } from '@graft/spec';
import type { ImageSource, Preprocessing } from '../preprocess/decode-image.ts';
import { batchProcessor, viewCount, type Undecodable, type ViewOptions } from './batch-processor.ts';
import type { WorkerReply, WorkerRequest } from './activation-worker.ts';
import { createRunner, type PrefixRunner, type PrefixRunnerSpec } from './prefix-runner.ts';
import { tfjsRunner, tfjsRunnerSpec } from './tfjs-prefix-runner.ts';
import { recyclePrefixThread, startPrefixThread } from './thread-reserve.ts';

export interface PrefixPoolOptions {
  /** the frozen prefix (Backbone.split().prefix); null = whole network trains, the activations are the images */
  prefix: tf.LayersModel | null;
  preprocessing: Preprocessing;
  /** worker threads; 1 = in the calling thread */
  threads: number;
  batchSize?: number;
  maxPixels?: number;
  /** another forward path for the prefix (e.g. ONNX Runtime), possibly still being prepared; absent or null: TF.js on `prefix` */
  runner?: PrefixRunnerSpec | Promise<PrefixRunnerSpec | null>;
}

export interface ActivationRequest {
  /** file paths or encoded bytes (DatasetItem.data), each decoded once here */
  files: ImageSource[];
  /** what to call each image in messages; default its path (or its position, for bytes) */
  names?: string[];
  /** augmented views per image besides the plain view 0 (default 0) */
  augmentViews?: number;
  seed?: number;
  /** a last view holding each image's horizontal mirror (default false) */
  mirror?: boolean;
  signal?: AbortSignal;
  /** fraction of this set's images done, 0…1 */
  onProgress?: (fraction: number) => unknown;
}

export interface PrefixActivations {
  /** views[v]: count × prod(shape) floats, image i at row i; view 0 un-augmented, the mirror (if asked) last */
  views: Float32Array[];
  /** per-image activation shape */
  shape: number[];
  count: number;
  /** images whose data the decoder refused, by index (their rows are zeros): the caller leaves them out */
  undecodable: Undecodable[];
}

export interface PrefixPool {
  /** every image of the set (and each augmented view) through the prefix; sets run one after another */
  compute(req: ActivationRequest): Promise<PrefixActivations>;
  close(): Promise<void>;
}

export const defaultBatchSize = 32;

function cancelled(): GraftError {
  return new GraftError(ErrorCode.cancelled, 'The job was cancelled.');
}

/** Receives the per-image output shape once, then each batch's views in any order. */
class Collector {
  views: Float32Array[] = [];
  readonly undecodable: Undecodable[] = [];
  private rowSize = 0;
  private stored = 0;
  constructor(
    private readonly req: ActivationRequest,
    nViews: number,
    private readonly batchSize: number,
    readonly shape: number[],
  ) {
    this.rowSize = shape.reduce((a, b) => a * b, 1);
    this.views = Array.from({ length: nViews }, () => new Float32Array(req.files.length * this.rowSize));
  }
  store(batch: number, out: Float32Array[], undecodable: Undecodable[]) {
    this.undecodable.push(...undecodable);
    out.forEach((v, i) => this.views[i].set(v, batch * this.batchSize * this.rowSize));
    this.stored += out[0].length / this.rowSize;
    this.req.onProgress?.(this.stored / this.req.files.length);
  }
  result(): PrefixActivations {
    return { views: this.views, shape: this.shape, count: this.req.files.length, undecodable: this.undecodable.sort((a, b) => a.index - b.index) };
  }
}

const viewOptions = (req: ActivationRequest): ViewOptions => ({ augmentViews: req.augmentViews ?? 0, seed: req.seed ?? 0, mirror: req.mirror ?? false });
const namesOf = (req: ActivationRequest): string[] => req.names ?? req.files.map((f, i) => (typeof f === 'string' ? f : `image ${i + 1}`));

export function openPrefixPool(o: PrefixPoolOptions): PrefixPool {
  const batchSize = o.batchSize ?? defaultBatchSize;
  return o.threads <= 1 ? inThreadPool(o, batchSize) : workerPool(o, batchSize);
}

function inThreadPool(o: PrefixPoolOptions, batchSize: number): PrefixPool {
  let runner: Promise<PrefixRunner> | null = null;
  const ready = () =>
    (runner ??= Promise.resolve(o.runner).then((spec) => (spec ? createRunner(spec, o.preprocessing.imageSize) : tfjsRunner(o.prefix, o.preprocessing.imageSize))));
  return {
    async compute(req) {
      if (req.signal?.aborted) throw cancelled();
      const r = await ready();
      const stages = batchProcessor(r, o.preprocessing, o.maxPixels);
      const views = viewOptions(req);
      const c = new Collector(req, viewCount(views), batchSize, r.outputShape);
      const { files, signal } = req;
      const names = namesOf(req);
      const decode = (start: number) => {
        const p = stages.decode(files.slice(start, start + batchSize), names.slice(start, start + batchSize), start, views);
        p.catch(() => {}); // awaited in turn below; an abort may leave it unawaited
        return p;
      };
      let next = files.length > 0 ? decode(0) : null;
      for (let b = 0, start = 0; next; b++, start += batchSize) {
        if (signal?.aborted) throw cancelled();
        const decoded = await next;
        // decode the following batch while this one runs forward
        next = start + batchSize < files.length ? decode(start + batchSize) : null;
        c.store(b, await stages.forward(decoded), decoded.undecodable);
      }
      return c.result();
    },
    async close() {
      if (runner) await (await runner.catch(() => null))?.dispose();
    },
  };
}

interface PoolWorker {
  worker: Worker;
  ready: boolean;
  /** batches sent and not answered: a thread with none left can serve another pool */
  inFlight: number;
  exited: boolean;
  /** resolves once the worker's runner is built, failed, or will never be (no spec, worker gone) */
  initialised: Promise<void>;
  settle(): void;
}

function workerPool(o: PrefixPoolOptions, batchSize: number): PrefixPool {
  const workers: PoolWorker[] = [];
  let outputShape: number[] | null = null;
  /** the first failure: every later request fails with it too */
  let broken: Error | null = null;
  /** the set being computed; replies of an abandoned (cancelled) set are dropped */
  let current: {
    onReady(w: PoolWorker): void;
    onResult(set: number, batch: number, views: Float32Array[], undecodable: Undecodable[]): void;
    fail(err: Error): void;
  } | null = null;
  let setCount = 0;
  /** sets run one after another */
  let queue: Promise<unknown> = Promise.resolve();
  let readyWaiters: (() => void)[] = [];
  let closing = false;

  const breakPool = (err: Error) => {
    broken ??= err;
    current?.fail(err);
    readyWaiters.forEach((w) => w());
    readyWaiters = [];
  };
  for (let t = 0; t < o.threads; t++) {
    let settle = () => {};
    const initialised = new Promise<void>((resolve) => (settle = resolve));
    const w: PoolWorker = { worker: startPrefixThread(), ready: false, inFlight: 0, exited: false, initialised, settle };
    workers.push(w);
    w.worker.on('message', (msg: WorkerReply) => {
      if (msg.type === 'error') {
        w.settle();
        return breakPool(msg.code ? new GraftError(msg.code as Code, msg.message) : new Error(`activation worker: ${msg.message}`));
      }
      if (msg.type === 'ready') {
        outputShape ??= msg.outputShape;
        w.ready = true;
        w.settle();
        readyWaiters.forEach((r) => r());
        readyWaiters = [];
        return current?.onReady(w);
      }
      w.inFlight--;
      current?.onResult(msg.set, msg.batch, msg.views, msg.undecodable);
    });
    w.worker.on('error', (err) => {
      w.settle();
      breakPool(err);
    });
    w.worker.on('exit', (code) => {
      w.exited = true;
      w.settle();
      if (!closing && code !== 0) breakPool(new Error(`activation worker exited with code ${code}`));
    });
  }
  const spec = Promise.resolve(o.runner).then((s) => s ?? tfjsRunnerSpec(o.prefix));
  spec.then(
    (s) => {
      const req: WorkerRequest = { type: 'init', init: { spec: s, preprocessing: o.preprocessing, maxPixels: o.maxPixels } };
      workers.forEach((w) => w.worker.postMessage(req));
    },
    (err: Error) => {
      workers.forEach((w) => w.settle());
      breakPool(err);
    },
  );
  const firstReady = () =>
    new Promise<void>((resolve) => {
      if (outputShape || broken) return resolve();
      readyWaiters.push(resolve);
    });

  const run = async (req: ActivationRequest): Promise<PrefixActivations> => {
    const { files, signal } = req;
    if (signal?.aborted) throw cancelled();
    await firstReady();
    if (broken) throw broken;
    const views = viewOptions(req);
    const names = namesOf(req);
    const c = new Collector(req, viewCount(views), batchSize, outputShape!);
    if (files.length === 0) return c.result();
    const id = ++setCount;
    const nBatches = Math.ceil(files.length / batchSize);
    let next = 0;
    let done = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(cancelled());
        signal?.addEventListener('abort', onAbort, { once: true });
        /** which worker holds each batch: when it answers, that worker has room for the next one */
        const owner = new Map<number, PoolWorker>();
        const send = (w: PoolWorker) => {
          if (next >= nBatches) return;
          const b = next++;
          owner.set(b, w);
          w.inFlight++;
          const [from, to] = [b * batchSize, (b + 1) * batchSize];
          const msg: WorkerRequest = { type: 'batch', set: id, batch: b, files: files.slice(from, to), names: names.slice(from, to), firstIndex: from, views };
          w.worker.postMessage(msg);
        };
        current = {
          // two in flight per worker: one decoding while the other runs forward
          onReady: (w) => (send(w), send(w)),
          onResult(set, batch, out, undecodable) {
            if (set !== id) return;
            c.store(batch, out, undecodable);
            if (++done === nBatches) {
              signal?.removeEventListener('abort', onAbort);
              return resolve();
            }
            send(owner.get(batch)!);
          },
          fail: (err) => {
            signal?.removeEventListener('abort', onAbort);
            reject(err);
          },
        };
        for (const w of workers) if (w.ready) current.onReady(w);
      });
    } finally {
      current = null;
    }
    return c.result();
  };

  return {
    compute(req) {
      const result = queue.then(() => run(req));
      queue = result.catch(() => {});
      return result;
    },
    async close() {
      closing = true;
      // a worker terminated while its native runtime is still opening a session aborts the process
      // (ONNX Runtime throws into a torn-down environment), so let every started init finish first
      await spec.then(
        () => Promise.all(workers.map((w) => w.initialised)),
        () => {},
      );
      // healthy threads with nothing in flight go back to the reserve for the next cold pool; the rest end
      await Promise.all(workers.map((w) => (!broken && w.ready && w.inFlight === 0 && !w.exited ? recyclePrefixThread(w.worker) : w.worker.terminate())));
    },
  };
}

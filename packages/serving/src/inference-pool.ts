// Runs inference off the event loop: worker_threads, each with its own TF.js (wasm) and its own copy
// of the models it was asked to run. Requests queue here; a free thread takes the oldest one and
// everything queued behind it for the same model, up to maxBatch images, as one batch — under load
// concurrent single-image requests become batches without waiting on a timer.
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startTsWorker } from '@graft/engine';
import { ONNX_FILE } from './checkpoint-files.ts';
import type { CachedModel } from './model-cache.ts';
import type { FromWorker, ToWorker } from './inference-messages.ts';

export interface InferencePoolOptions {
  threads: number;
  /** most images one forward pass takes */
  maxBatch: number;
  /** TF.js backend of the threads (default wasm) */
  backend?: string;
  /** serve through ONNX Runtime when it can run the model (default true) */
  onnx?: boolean;
  logger?: { info(obj: object, msg?: string): void };
}

interface Request {
  model: CachedModel;
  input: Float32Array;
  n: number;
  resolve: (out: Float32Array) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  loaded: Set<string>;
  batch: { id: number; requests: Request[] } | null;
  /** resolves close(): the thread has freed its models */
  closed?: () => void;
}

const CLOSE_WAIT_MS = 5000;

export interface PoolStats {
  batches: number;
  images: number;
  /** which runner answered last (tfjs, onnx …) */
  runner: string | null;
  backend: string | null;
}

const workerUrl = new URL('./inference-worker.ts', import.meta.url);

export class InferencePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Request[] = [];
  private nextId = 1;
  private closed = false;
  private fatal: Error | null = null;
  readonly stats: PoolStats = { batches: 0, images: 0, runner: null, backend: null };

  constructor(private readonly opts: InferencePoolOptions) {
    for (let i = 0; i < Math.max(1, opts.threads); i++) this.slots.push(this.spawn());
  }

  /** input (n images, HWC each) is handed over to the thread: its buffer is detached here. */
  run(model: CachedModel, input: Float32Array, n: number): Promise<Float32Array> {
    if (this.closed) return Promise.reject(new Error('inference pool is closed'));
    if (this.fatal) return Promise.reject(this.fatal);
    return new Promise((resolve, reject) => {
      this.queue.push({ model, input, n, resolve, reject });
      this.dispatch();
      this.updateRefs();
    });
  }

  /** Frees a model's copies in every thread (called when the cache evicts it). */
  release(key: string): void {
    for (const slot of this.slots) {
      if (slot.loaded.delete(key)) this.post(slot, { type: 'dispose', key });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const r of this.queue.splice(0)) r.reject(new Error('inference pool closed'));
    await Promise.all(this.slots.map((s) => this.closeSlot(s)));
  }

  /** Lets a thread free its models (after the message it is on), then terminates it; a hung thread only waits CLOSE_WAIT_MS. */
  private async closeSlot(slot: Slot): Promise<void> {
    if (slot.ready) {
      const closed = new Promise<void>((resolve) => {
        slot.closed = resolve;
        slot.worker.once('exit', () => resolve());
      });
      slot.worker.ref();
      this.post(slot, { type: 'close' });
      await Promise.race([closed, new Promise((r) => setTimeout(r, CLOSE_WAIT_MS).unref())]);
    }
    await slot.worker.terminate();
  }

  private spawn(): Slot {
    // ONNX Runtime threads split the cores between the pool's threads instead of oversubscribing them
    const onnxThreads = Math.max(1, Math.floor(os.availableParallelism() / Math.max(1, this.opts.threads)));
    const workerData = { backend: this.opts.backend, runner: { onnx: this.opts.onnx ?? true, onnxThreads } };
    const worker = startTsWorker(workerUrl, { workerData });
    const slot: Slot = { worker, ready: false, loaded: new Set(), batch: null };
    worker.on('message', (msg: FromWorker) => this.onMessage(slot, msg));
    worker.on('error', (err) => this.onCrash(slot, err));
    worker.on('exit', (code) => {
      if (!this.closed) this.onCrash(slot, new Error(`inference thread exited with code ${code}`));
    });
    return slot;
  }

  private onMessage(slot: Slot, msg: FromWorker): void {
    if (msg.type === 'ready') {
      slot.ready = true;
      this.stats.backend = msg.backend;
      this.dispatch();
      this.updateRefs();
      return;
    }
    if (msg.type === 'closed') {
      slot.closed?.();
      return;
    }
    if (msg.type === 'loaded') {
      this.opts.logger?.info({ model: msg.key, runner: msg.runner, ms: Math.round(msg.ms) }, `model ${msg.key} loaded in an inference thread (${msg.runner})`);
      return;
    }
    const batch = slot.batch;
    if (!batch || batch.id !== msg.id) return;
    slot.batch = null;
    if (msg.type === 'error') {
      for (const r of batch.requests) r.reject(new Error(`inference failed: ${msg.message}`));
    } else {
      this.stats.runner = msg.runner;
      const classes = msg.output.length / batch.requests.reduce((s, r) => s + r.n, 0);
      let offset = 0;
      for (const r of batch.requests) {
        r.resolve(msg.output.slice(offset, offset + r.n * classes));
        offset += r.n * classes;
      }
    }
    this.dispatch();
    this.updateRefs();
  }

  // Threads keep the process alive only while there is work, so an idle pool never holds up exit.
  private updateRefs(): void {
    const busy = this.queue.length > 0 || this.slots.some((s) => s.batch);
    for (const s of this.slots) {
      if (busy) s.worker.ref();
      else s.worker.unref();
    }
  }

  private onCrash(slot: Slot, err: Error): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    for (const r of slot.batch?.requests ?? []) r.reject(new Error(`inference thread failed: ${err.message}`));
    slot.batch = null;
    if (!slot.ready) {
      // a thread that cannot even start (backend missing) would fail the same way again
      this.fatal = new Error(`inference thread could not start: ${err.message}`);
      for (const r of this.queue.splice(0)) r.reject(this.fatal);
      this.slots.splice(i, 1);
      return;
    }
    this.slots[i] = this.spawn();
    void slot.worker.terminate();
    this.updateRefs();
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const idle = this.slots.filter((s) => s.ready && !s.batch);
      if (idle.length === 0) return;
      const head = this.queue[0]!;
      const slot = idle.find((s) => s.loaded.has(head.model.key)) ?? idle[0]!;
      const requests = this.takeBatch(head.model.key);
      if (!slot.loaded.has(head.model.key)) {
        const { modelJson, weightData, metadata, files } = head.model.checkpoint;
        const onnx = files.get(ONNX_FILE);
        this.post(slot, { type: 'load', key: head.model.key, source: { modelJson, weightData, metadata, onnx } });
        slot.loaded.add(head.model.key);
      }
      const n = requests.reduce((s, r) => s + r.n, 0);
      const input = requests.length === 1 ? requests[0]!.input : concat(requests.map((r) => r.input));
      const id = this.nextId++;
      slot.batch = { id, requests };
      this.stats.batches++;
      this.stats.images += n;
      // transferred, not copied: a 64-image batch at 224 px is 38 MB the event loop need not clone
      slot.worker.postMessage({ type: 'run', id, key: head.model.key, input, n } satisfies ToWorker, [input.buffer as ArrayBuffer]);
    }
  }

  private takeBatch(key: string): Request[] {
    const taken: Request[] = [this.queue.shift()!];
    let n = taken[0]!.n;
    for (let i = 0; i < this.queue.length; ) {
      const r = this.queue[i]!;
      if (r.model.key === key && n + r.n <= this.opts.maxBatch) {
        taken.push(r);
        n += r.n;
        this.queue.splice(i, 1);
      } else i++;
    }
    return taken;
  }

  private post(slot: Slot, msg: ToWorker): void {
    slot.worker.postMessage(msg);
  }
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

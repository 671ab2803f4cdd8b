// Worker-thread side of computePrefixActivations: builds its own runner (own TF.js + wasm instance)
// from the spec, then answers batch requests until the parent terminates it.
import { parentPort, workerData } from 'node:worker_threads';
import { GraftError } from '@graft/spec';
import { batchProcessor, type BatchOptions } from './batch-processor.ts';
import { createRunner, type PrefixRunnerSpec } from './prefix-runner.ts';

export interface WorkerInit {
  spec: PrefixRunnerSpec;
  options: BatchOptions;
}
export type WorkerRequest = { batch: number; files: string[]; firstIndex: number };
export type WorkerReply =
  | { type: 'ready'; outputShape: number[] }
  | { type: 'result'; batch: number; views: Float32Array[] }
  | { type: 'error'; code: string | null; message: string };

const port = parentPort!;
const post = (msg: WorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);
const fail = (err: unknown) => post({ type: 'error', code: err instanceof GraftError ? err.code : null, message: (err as Error).message ?? String(err) });

try {
  const init = workerData as WorkerInit;
  const runner = await createRunner(init.spec, init.options.preprocessing.imageSize);
  const stages = batchProcessor(runner, init.options);
  // the parent keeps two batches in flight: the next one decodes (sharp's threads) while this one runs
  let previous: Promise<unknown> = Promise.resolve();
  port.on('message', (req: WorkerRequest) => {
    const decoded = stages.decode(req.files, req.firstIndex);
    decoded.catch(() => {}); // reported below, in order
    previous = previous
      .then(async () => {
        const views = await stages.forward(await decoded);
        post({ type: 'result', batch: req.batch, views }, views.map((v) => v.buffer as ArrayBuffer));
      })
      .catch(fail);
  });
  post({ type: 'ready', outputShape: runner.outputShape });
} catch (err) {
  fail(err);
}

// Worker-thread side of the prefix pool: boots (imports, ~1 s) while the caller still prepares the runner
// spec, builds its own runner (own TF.js + wasm instance or ONNX Runtime session) once from the init
// message, then answers batch requests of any image set until the pool terminates it.
import { parentPort } from 'node:worker_threads';
import sharp from 'sharp';
import { GraftError } from '@graft/spec';
import type { ImageSource, Preprocessing } from '../preprocess/decode-image.ts';
import { batchProcessor, type Undecodable, type ViewOptions } from './batch-processor.ts';
import { createRunner, type PrefixRunner, type PrefixRunnerSpec } from './prefix-runner.ts';

export interface WorkerInit {
  spec: PrefixRunnerSpec;
  preprocessing: Preprocessing;
  maxPixels?: number;
}
export type WorkerRequest =
  | { type: 'init'; init: WorkerInit }
  /** the pool is done with this thread, which goes back to the reserve: free the runner (its session, weights) */
  | { type: 'reset' }
  | { type: 'batch'; set: number; batch: number; files: ImageSource[]; names: string[]; firstIndex: number; views: ViewOptions };
export type WorkerReply =
  | { type: 'ready'; outputShape: number[] }
  | { type: 'result'; set: number; batch: number; views: Float32Array[]; undecodable: Undecodable[] }
  | { type: 'error'; code: string | null; message: string };

// Images already run in parallel (a worker per core, a batch decoding while the last runs forward): libvips'
// own threads per image only add hand-offs, ~20 % of the CPU a small image's decode costs (1.27 -> 1.04 ms per
// 28-px PNG resized to 96, four in flight), ~4 % of bench/engine/speed.ts's feature_extraction job.
sharp.concurrency(1);

const port = parentPort!;
const post = (msg: WorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);
const fail = (err: unknown) => post({ type: 'error', code: err instanceof GraftError ? err.code : null, message: (err as Error).message ?? String(err) });

let stages: ReturnType<typeof batchProcessor> | null = null;
let runner: PrefixRunner | null = null;
// the pool keeps two batches in flight: the next one decodes (sharp's threads) while this one runs forward
let previous: Promise<unknown> = Promise.resolve();
/** a recycled thread (thread-reserve.ts) serves another pool: the previous pool's runner goes first */
const dropRunner = async () => {
  const old = runner;
  [runner, stages] = [null, null];
  await old?.dispose();
};
port.on('message', (req: WorkerRequest) => {
  if (req.type === 'reset') {
    previous = previous.then(dropRunner).catch(() => {});
    return;
  }
  if (req.type === 'init') {
    previous = previous
      .then(dropRunner)
      .then(() => createRunner(req.init.spec, req.init.preprocessing.imageSize))
      .then((built) => {
        runner = built;
        stages = batchProcessor(built, req.init.preprocessing, req.init.maxPixels);
        post({ type: 'ready', outputShape: built.outputShape });
      })
      .catch(fail);
    return;
  }
  // batches come only after 'ready', so the stages exist; decoding starts at once
  const decoded = stages!.decode(req.files, req.names, req.firstIndex, req.views);
  decoded.catch(() => {}); // reported below, in order
  previous = previous
    .then(async () => {
      const batch = await decoded;
      const views = await stages!.forward(batch);
      post({ type: 'result', set: req.set, batch: req.batch, views, undecodable: batch.undecodable }, views.map((v) => v.buffer as ArrayBuffer));
    })
    .catch(fail);
});

// Body of one inference thread: holds loaded models by key and runs batches on them, one message at
// a time in arrival order (a dispose never lands in the middle of a run).
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '@graft/engine';
import { createRunner, type ModelRunner, type RunnerOptions } from './runners/model-runner.ts';
import type { ToWorker, FromWorker } from './inference-messages.ts';

const port = parentPort!;
const options = workerData as { backend?: string; runner: RunnerOptions };
const runners = new Map<string, Promise<ModelRunner>>();

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'load': {
      const started = performance.now();
      const loading = createRunner(msg.source, options.runner);
      runners.set(msg.key, loading);
      loading.then(
        (runner) => port.postMessage({ type: 'loaded', key: msg.key, runner: runner.name, ms: performance.now() - started } satisfies FromWorker),
        () => {}, // reported by the runs that need it
      );
      return;
    }
    case 'dispose': {
      const runner = runners.get(msg.key);
      runners.delete(msg.key);
      if (runner) await (await runner.catch(() => null))?.dispose();
      return;
    }
    case 'close': {
      // free every session before the pool terminates this thread: a native release still in flight when the
      // thread's environment goes away aborts the whole process (seen as ORT's "terminate called … Napi::Error")
      const all = [...runners.values()];
      runners.clear();
      await Promise.all(all.map(async (r) => (await r.catch(() => null))?.dispose()));
      port.postMessage({ type: 'closed' } satisfies FromWorker);
      return;
    }
    case 'run': {
      try {
        const runner = runners.get(msg.key);
        if (!runner) throw new Error(`model ${msg.key} is not loaded in this thread`);
        const output = await (await runner).run(msg.input, msg.n);
        const reply: FromWorker = { type: 'result', id: msg.id, output, runner: (await runner).name };
        port.postMessage(reply, [output.buffer as ArrayBuffer]);
      } catch (err) {
        const reply: FromWorker = { type: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err) };
        port.postMessage(reply);
      }
      return;
    }
  }
}

// each thread has its own TF.js: pick its backend the way the engine does for training
const backend = initBackend(options.backend);
let chain: Promise<unknown> = backend.then((name) => port.postMessage({ type: 'ready', backend: name } satisfies FromWorker));
port.on('message', (msg: ToWorker) => {
  chain = chain.then(() => handle(msg));
});

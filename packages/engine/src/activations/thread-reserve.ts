// Prefix-pool worker threads booted ahead of need. A thread takes ~1.5 s to boot (tsx, sharp, the engine's
// modules) while the job thread exports the prefix in ~0.5 s, so a cold pool used to wait about a second for its
// threads. A service's job thread keeps one booted thread per core in reserve (refilled as each job starts, while
// its datasets are extracted on one core); a pool takes its threads from there. Off unless asked for, so a library
// caller or the CLI can exit.
import type { Worker } from 'node:worker_threads';
import { startTsWorker } from '../runtime/ts-worker.ts';

const workerModule = new URL('./activation-worker.ts', import.meta.url);

interface Reserved {
  worker: Worker;
  /** removes it from the reserve if it dies there */
  onGone: () => void;
}

const reserve: Reserved[] = [];

/** A prefix-pool worker thread: a booted one from the reserve, else one started now. */
export function startPrefixThread(): Worker {
  const taken = reserve.shift();
  if (!taken) return startTsWorker(workerModule, {});
  taken.worker.off('error', taken.onGone).off('exit', taken.onGone);
  taken.worker.ref();
  return taken.worker;
}

/** Keeps `count` booted threads in reserve: starts the missing ones now (in the background), ends any beyond. */
export function reservePrefixThreads(count: number): void {
  while (reserve.length < count) {
    const worker = startTsWorker(workerModule, {});
    const entry: Reserved = {
      worker,
      onGone: () => {
        const i = reserve.indexOf(entry);
        if (i >= 0) reserve.splice(i, 1);
        void worker.terminate();
      },
    };
    // an idle reserve does not keep the process alive, and a thread that fails to boot just leaves it
    worker.unref();
    worker.on('error', entry.onGone).on('exit', entry.onGone);
    reserve.push(entry);
  }
  for (const extra of reserve.splice(count)) extra.onGone();
}

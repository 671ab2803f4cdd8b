// Prefix-pool worker threads booted ahead of need. A thread takes ~1.5 s to boot (tsx, sharp, the engine's
// modules) while the job thread exports the prefix in ~0.5 s, so a cold pool used to wait about a second for its
// threads. A service's job thread keeps one booted thread per core in reserve (refilled as each job starts, while
// its datasets are extracted on one core); a pool takes its threads from there, and a closed pool gives its healthy
// threads back. Off unless asked for, so a library caller or the CLI can exit.
import type { Worker } from 'node:worker_threads';
import { startTsWorker } from '../runtime/ts-worker.ts';
import type { WorkerRequest } from './activation-worker.ts';

const workerModule = new URL('./activation-worker.ts', import.meta.url);

interface Reserved {
  worker: Worker;
  /** removes it from the reserve if it dies there */
  onGone: () => void;
}

const reserve: Reserved[] = [];
/** threads the reserve keeps at most (the last reservePrefixThreads count) */
let capacity = 0;

/** Into the reserve: an idle thread does not keep the process alive, and one that dies there just leaves it. */
function keep(worker: Worker, front: boolean): void {
  const entry: Reserved = {
    worker,
    onGone: () => {
      const i = reserve.indexOf(entry);
      if (i >= 0) reserve.splice(i, 1);
      void worker.terminate();
    },
  };
  worker.unref();
  worker.on('error', entry.onGone).on('exit', entry.onGone);
  if (front) reserve.unshift(entry);
  else reserve.push(entry);
}

/** Threads waiting in the reserve (booted or booting). */
export function reservedPrefixThreads(): number {
  return reserve.length;
}

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
  capacity = count;
  while (reserve.length < count) keep(startTsWorker(workerModule, {}), false);
  for (const extra of reserve.splice(count)) extra.onGone();
}

/**
 * A closed pool's healthy thread, done with its last batch: back to the reserve (first in line: it is booted) with
 * its runner freed, so the next cold pool skips the ~1.5 s boot; ended when the reserve is full or off.
 */
export async function recyclePrefixThread(worker: Worker): Promise<void> {
  if (reserve.length >= capacity) {
    await worker.terminate();
    return;
  }
  worker.removeAllListeners('message').removeAllListeners('error').removeAllListeners('exit');
  const reset: WorkerRequest = { type: 'reset' };
  worker.postMessage(reset);
  keep(worker, true);
}

// How a shutting-down worker process stops the jobs its threads still run. BullMQ owns the job threads and
// offers no message path into them, so the news travels over a BroadcastChannel (it reaches every thread of
// the process). A job thread stops at its next batch, where the engine checks its signal, so no native ONNX
// Runtime call is in flight when the process exits: onnxruntime-node aborts the process if one is.
import { BroadcastChannel } from 'node:worker_threads';

const CHANNEL = 'graft-worker-shutdown';

/** Main thread: tell every job thread to stop (their jobs were already handed back to the queue). */
export function announceShutdown(): void {
  const channel = new BroadcastChannel(CHANNEL);
  channel.postMessage('stop');
  channel.close();
}

let stopping: AbortController | undefined;

/** Job thread: aborted when the process announces its shutdown. One listener per thread, never keeping it alive. */
export function shutdownSignal(): AbortSignal {
  if (!stopping) {
    const controller = new AbortController();
    const channel = new BroadcastChannel(CHANNEL);
    channel.onmessage = () => controller.abort(new Error('the worker is shutting down'));
    channel.unref();
    stopping = controller;
  }
  return stopping.signal;
}

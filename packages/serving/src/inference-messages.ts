// The messages between the inference pool and its threads.
import type { RunnerSource } from './runners/model-runner.ts';

export type ToWorker =
  | { type: 'load'; key: string; source: RunnerSource }
  | { type: 'run'; id: number; key: string; input: Float32Array; n: number }
  | { type: 'dispose'; key: string }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; backend: string }
  | { type: 'loaded'; key: string; runner: string; ms: number }
  | { type: 'result'; id: number; output: Float32Array; runner: string }
  | { type: 'error'; id: number; message: string }
  | { type: 'closed' };

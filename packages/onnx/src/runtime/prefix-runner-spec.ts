// The engine's activation cache builds one prefix runner per worker thread from a spec { module,
// exportName, init } (packages/engine/src/activations/prefix-runner.ts). This module is such a spec for
// ONNX Runtime: the prefix exported once in the calling thread, opened in each worker.
import os from 'node:os';
import type * as tf from '@tensorflow/tfjs';
import { createModelRunner } from './model-runner.ts';
import { createOnnxRunner, type OnnxLogger, type OnnxRunner } from './ort-session.ts';

export interface OnnxPrefixInit {
  onnx: Uint8Array;
  /** intra-op threads of each worker's session */
  threads: number;
}

export interface OnnxPrefixRunnerSpec {
  module: string;
  exportName: 'createOnnxPrefixRunner';
  init: OnnxPrefixInit;
}

/**
 * Exports the frozen prefix for ONNX Runtime; null (logged, TF.js stays) when the runtime is missing or
 * a layer does not export. `workers` = threads the cache runs runners in; they share the cores.
 */
export async function onnxPrefixRunnerSpec(prefix: tf.LayersModel, opts: { workers: number; logger?: OnnxLogger }): Promise<OnnxPrefixRunnerSpec | null> {
  const threads = Math.max(1, Math.floor(os.availableParallelism() / Math.max(1, opts.workers)));
  // opening the model here once checks that ONNX Runtime accepts it before any worker relies on it
  const made = await createModelRunner(prefix, { threads, logger: opts.logger });
  if (!made) return null;
  await made.runner.dispose();
  return { module: import.meta.url, exportName: 'createOnnxPrefixRunner', init: { onnx: made.onnx, threads } };
}

/** Factory run inside each worker thread (see OnnxPrefixRunnerSpec). */
export async function createOnnxPrefixRunner(init: unknown, imageSize: number): Promise<OnnxRunner> {
  const { onnx, threads } = init as OnnxPrefixInit;
  const runner = await createOnnxRunner(onnx, { threads });
  if (!runner) throw new Error('onnxruntime-node did not load in this worker thread');
  if (runner.inputShape[0] !== imageSize || runner.inputShape[1] !== imageSize) {
    await runner.dispose();
    throw new Error(`the ONNX prefix takes ${runner.inputShape.join('×')} inputs, not ${imageSize} px images`);
  }
  return runner;
}

// ONNX Runtime for a served model: the checkpoint's model.onnx if the worker stored one, else the
// TF.js graph exported on load. Null (TF.js serves) when the runtime is missing or a layer does not export.
import type * as tf from '@tensorflow/tfjs';
import { createModelRunner, createOnnxRunner, type OnnxRunner } from '@graft/onnx';
import type { ModelRunner, RunnerSource } from './model-runner.ts';

export async function onnxRunner(source: RunnerSource, model: tf.LayersModel, threads: number): Promise<ModelRunner | null> {
  let runner: OnnxRunner | null = null;
  if (source.onnx) runner = await createOnnxRunner(source.onnx, { threads });
  runner ??= (await createModelRunner(model, { threads }))?.runner ?? null;
  if (!runner) return null;
  const session = runner;
  return {
    name: 'onnx',
    run: (input, n) => session.run(input, n),
    dispose: () => session.dispose(),
  };
}

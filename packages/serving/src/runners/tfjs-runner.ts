// The baseline runner: the checkpoint's TF.js layers model on this thread's own TF.js backend.
import * as tf from '@tensorflow/tfjs';
import type { ModelRunner, RunnerSource } from './model-runner.ts';

export function loadTfjsModel(source: RunnerSource): Promise<tf.LayersModel> {
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: source.modelJson.modelTopology,
      weightSpecs: source.modelJson.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
      weightData: source.weightData,
    }),
  );
}

export function tfjsRunner(model: tf.LayersModel, imageSize: number): ModelRunner {
  return {
    name: 'tfjs',
    async run(input, n) {
      const out = tf.tidy(() => model.predict(tf.tensor4d(input, [n, imageSize, imageSize, 3])) as tf.Tensor);
      try {
        return (await out.data()) as Float32Array;
      } finally {
        out.dispose();
      }
    },
    dispose: async () => {
      model.dispose();
    },
  };
}

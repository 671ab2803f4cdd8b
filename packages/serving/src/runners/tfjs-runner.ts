// The baseline runner: the checkpoint's TF.js layers model on this thread's own TF.js backend.
import * as tf from '@tensorflow/tfjs';
import type { ModelRunner, RunnerFactory } from './model-runner.ts';

export const createTfjsRunner: RunnerFactory = async (source) => {
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: source.modelJson.modelTopology,
      weightSpecs: source.modelJson.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
      weightData: source.weightData,
    }),
  );
  const size = source.metadata.preprocessing.imageSize;
  const runner: ModelRunner = {
    name: 'tfjs',
    async run(input, n) {
      const out = tf.tidy(() => model.predict(tf.tensor4d(input, [n, size, size, 3])) as tf.Tensor);
      try {
        return (await out.data()) as Float32Array;
      } finally {
        out.dispose();
      }
    },
    dispose: () => model.dispose(),
  };
  return runner;
};

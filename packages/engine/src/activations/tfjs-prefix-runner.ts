// The TF.js forward path of a frozen prefix (backend chosen by initBackend: wasm here, tfjs-node when
// installed). Across threads the prefix travels as model artifacts (topology + weight bytes).
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../runtime/backend.ts';
import type { PrefixRunner, PrefixRunnerSpec } from './prefix-runner.ts';

/** A runner over a model already in this thread; null model = identity (the whole network trains). */
export function tfjsRunner(model: tf.LayersModel | null, imageSize: number): PrefixRunner {
  let outputShape = model ? (model.outputs[0].shape.slice(1) as (number | null)[]) : [imageSize, imageSize, 3];
  if (model && outputShape.some((d) => d == null)) {
    // a fully convolutional user model: the shape follows from the image size
    const probe = tf.tidy(() => (model.predict(tf.zeros([1, imageSize, imageSize, 3])) as tf.Tensor).shape.slice(1));
    outputShape = probe;
  }
  return {
    outputShape: outputShape as number[],
    async run(batch, n) {
      if (!model) return batch;
      const out = tf.tidy(() => model.predict(tf.tensor4d(batch, [n, imageSize, imageSize, 3])) as tf.Tensor);
      try {
        return (await out.data()) as Float32Array;
      } finally {
        out.dispose();
      }
    },
    dispose() {},
  };
}

/** The prefix as plain artifacts that a worker thread can rebuild; same layers and weights. */
export async function saveArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return saved!;
}

export async function tfjsRunnerSpec(prefix: tf.LayersModel | null): Promise<PrefixRunnerSpec> {
  return { module: import.meta.url, init: prefix ? await saveArtifacts(prefix) : null };
}

/** Factory called inside each thread (see PrefixRunnerSpec). */
export async function createPrefixRunner(init: unknown, imageSize: number): Promise<PrefixRunner> {
  await initBackend();
  const model = init ? await tf.loadLayersModel(tf.io.fromMemory(init as tf.io.ModelArtifacts)) : null;
  const runner = tfjsRunner(model, imageSize);
  return {
    ...runner,
    dispose() {
      model?.dispose();
    },
  };
}

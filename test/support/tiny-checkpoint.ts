// A small real TF.js classifier saved in the engine's checkpoint format (model.json + weights.bin +
// metadata.json), for testing serving before (and independently of) a trained job.
import * as tf from '@tensorflow/tfjs';

export interface TinyCheckpoint {
  files: Map<string, Buffer>;
  model: tf.LayersModel;
  labels: string[];
  imageSize: number;
}

export async function makeTinyCheckpoint(opts: { labels?: string[]; imageSize?: number; seed?: number } = {}): Promise<TinyCheckpoint> {
  const labels = opts.labels ?? ['red_square', 'green_circle', 'blue_stripes'];
  const imageSize = opts.imageSize ?? 32;
  const seed = opts.seed ?? 7;
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [imageSize, imageSize, 3], filters: 8, kernelSize: 3, strides: 2, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: labels.length, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
  const files = new Map<string, Buffer>();
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      files.set(
        'model.json',
        Buffer.from(
          JSON.stringify({
            modelTopology: artifacts.modelTopology,
            format: 'layers-model',
            generatedBy: artifacts.generatedBy,
            convertedBy: null,
            weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
          }),
        ),
      );
      files.set('weights.bin', Buffer.from(artifacts.weightData as ArrayBuffer));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const metadata = { labels, preprocessing: { imageSize, pixelRange: [0, 1], resize: 'cover' }, method: 'fine_tune', backbone: 'tiny-test' };
  files.set('metadata.json', Buffer.from(JSON.stringify(metadata)));
  return { files, model, labels, imageSize };
}

/** Reads a checkpoint's files by key (any folder prefix), rejecting missing ones like storage does. */
export function readFromFiles(files: Map<string, Buffer>): (key: string) => Promise<Buffer> {
  return async (key) => {
    const bytes = files.get(key.split('/').pop()!);
    if (!bytes) throw new Error(`no object at '${key}'`);
    return bytes;
  };
}

// Pretrained weights that the operator provides (no hub can be reached at run time): a TF.js layers
// model.json by file:// or http(s):// URL in an environment variable, typically `tensorflowjs_converter`'s
// output of keras.applications.ResNet50 / VGG16. Weights are matched to our layers by name; only the ones
// the features need are decoded (a VGG-16 with its classifier top holds 528 MB, its features 59 MB).
import * as tf from '@tensorflow/tfjs';
import { readLayersModel, type ModelFileOptions } from './model-files.ts';

const bytesPer: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

function entryBytes(spec: tf.io.WeightsManifestEntry): number {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const per = bytesPer[dtype];
  if (!per) throw new Error(`weight ${spec.name} has dtype ${dtype}`);
  return count * per;
}

/** The spec for one of our weights: the same name, or a unique one ending in "/<name>" (a converter's model prefix). */
function findSpec(byName: Map<string, tf.io.WeightsManifestEntry>, name: string): tf.io.WeightsManifestEntry | undefined {
  const exact = byName.get(name);
  if (exact) return exact;
  const suffixed = [...byName.keys()].filter((n) => n.endsWith(`/${name}`));
  return suffixed.length === 1 ? byName.get(suffixed[0]) : undefined;
}

/** Loads every weight of `model` from the model.json at `url` by name; a missing or misshapen one is an error naming it. */
export async function loadWeightsByName(model: tf.LayersModel, url: string, opts: ModelFileOptions = {}): Promise<void> {
  const files = await readLayersModel(url, opts);
  const offsets = new Map<string, number>();
  let offset = 0;
  for (const spec of files.weightSpecs) {
    offsets.set(spec.name, offset);
    offset += entryBytes(spec);
  }
  if (offset !== files.weightData.byteLength) throw new Error(`the weight files hold ${files.weightData.byteLength} bytes, the manifest describes ${offset}`);
  const byName = new Map(files.weightSpecs.map((s) => [s.name, s]));
  const values: tf.NamedTensorMap = {};
  try {
    for (const w of model.weights) {
      const spec = findSpec(byName, w.originalName);
      if (!spec) throw new Error(`no weight ${w.originalName} in ${url} (is it the matching keras.applications model?)`);
      if (spec.shape.join('x') !== w.shape.join('x')) throw new Error(`weight ${spec.name} is ${spec.shape.join('×')}, the architecture needs ${w.shape.join('×')}`);
      const start = offsets.get(spec.name)!;
      const decoded = tf.io.decodeWeights(files.weightData.slice(start, start + entryBytes(spec)), [spec]);
      values[w.originalName] = tf.cast(decoded[spec.name], 'float32');
      decoded[spec.name].dispose();
    }
    model.loadWeights(values);
  } finally {
    tf.dispose(Object.values(values));
  }
}

// Reads the pretrained models that the npm package nsfwjs ships as JS modules (dist/models/<name>/
// model.min.js = the model.json object, group1-shard*.min.js = one base64 string each) without going
// through nsfwjs' own model_imports, which copy the strings slowly. The package's "exports" hides the
// folder, so it is found from the package's main file.
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';

const require = createRequire(import.meta.url);

export type NsfwjsModelName = 'mobilenet_v2' | 'mobilenet_v2_mid' | 'inception_v3';

export interface PackagedModel {
  /** Keras layers topology ({ model_config, ... }) or a TF graph ({ node: [...] }). */
  modelTopology: Record<string, unknown>;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weightData: ArrayBuffer;
  format: 'layers-model' | 'graph-model';
  version: string;
}

function modelsDir(): string {
  return path.join(path.dirname(require.resolve('nsfwjs')), '..', 'models');
}

/** Requires a UMD module once and drops it from require's cache so its large string can be freed. */
function requireOnce<T>(file: string): T {
  const resolved = require.resolve(file);
  try {
    return require(resolved) as T;
  } finally {
    delete require.cache[resolved];
  }
}

const cache = new Map<NsfwjsModelName, PackagedModel>();

/** The packaged model with its quantised weights as one buffer (decoded once per process, ~3.5–24 MB). */
export function readNsfwjsModel(name: NsfwjsModelName): PackagedModel {
  const hit = cache.get(name);
  if (hit) return hit;
  const dir = path.join(modelsDir(), name);
  const json = requireOnce<{ modelTopology: Record<string, unknown>; weightsManifest: tf.io.WeightsManifestConfig; format?: string }>(
    path.join(dir, 'model.min.js'),
  );
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const shards: Buffer[] = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) shards.push(Buffer.from(requireOnce<string>(path.join(dir, `${p.replace(/\.bin$/, '')}.min.js`)), 'base64'));
  }
  const all = Buffer.concat(shards);
  const model: PackagedModel = {
    modelTopology: json.modelTopology,
    weightSpecs,
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer,
    format: 'node' in json.modelTopology ? 'graph-model' : 'layers-model',
    version: (requireOnce<{ version: string }>(path.join(modelsDir(), '..', '..', 'package.json'))).version,
  };
  cache.set(name, model);
  return model;
}

// A user's own TF.js layers model (model.json by http(s):// URL or file:// path) used as a backbone:
// its last pooled or flattened layer gives the features, block ends are found generically.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { ErrorCode, GraftError, type BackboneRef } from '@graft/spec';
import { safeFetch } from '@graft/safe-fetch';
import { genericBlockEnds } from './blocks.ts';
import { makeBackbone, type Backbone } from './load-backbone.ts';
import type { BackboneInfo } from './registry.ts';

type UserRef = Exclude<BackboneRef, string>;

const featureLayerClasses = ['GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'Flatten'];

/** An IOHandler reading model.json and its weight files from a local folder (tfjs' file:// handler needs tfjs-node). */
function fileHandler(modelJson: string): tf.io.IOHandler {
  return {
    async load() {
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(await readFile(modelJson, 'utf8')) as tf.io.ModelJSON;
      } catch (err) {
        // never echo the file's content: the path came from a user
        throw new Error((err as NodeJS.ErrnoException).code ? `cannot read ${path.basename(modelJson)}` : `${path.basename(modelJson)} is not a model.json`);
      }
      const dir = path.dirname(modelJson);
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Buffer[] = [];
      for (const group of json.weightsManifest ?? []) {
        specs.push(...group.weights);
        for (const p of group.paths) {
          const file = path.resolve(dir, p);
          if (path.relative(dir, file).startsWith('..')) throw new Error(`weights path ${p} leaves the model folder`);
          buffers.push(await readFile(file));
        }
      }
      const all = Buffer.concat(buffers);
      return { modelTopology: json.modelTopology, weightSpecs: specs, weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer };
    },
  };
}

function handlerFor(url: string, allowedFileRoot: string | undefined): tf.io.IOHandler | string {
  // model.json and every weight shard through the fetcher that refuses internal addresses
  if (/^https?:\/\//i.test(url)) {
    const fetchFunc = (input: URL | RequestInfo, init?: RequestInit) => safeFetch(input instanceof Request ? input.url : input, { signal: init?.signal ?? undefined });
    return tf.io.http(url, { fetchFunc: fetchFunc as typeof fetch });
  }
  if (url.startsWith('file://')) {
    const file = path.resolve(fileURLToPath(url));
    if (allowedFileRoot && path.relative(path.resolve(allowedFileRoot), file).startsWith('..')) {
      throw new GraftError(ErrorCode.urlNotAllowed, `backbone file ${file} is outside the allowed folder`);
    }
    return fileHandler(file);
  }
  throw new GraftError(ErrorCode.urlNotAllowed, `backbone url must be http(s):// or file://, got ${url.slice(0, 40)}`);
}

/** The model cut at its last pooled/flattened layer (flattened if it is still a feature map). */
function featuresModel(model: tf.LayersModel): tf.LayersModel {
  const layer = [...model.layers].reverse().find((l) => featureLayerClasses.includes(l.getClassName()) || /Pooling2D$/.test(l.getClassName()));
  if (!layer) throw new Error('the model has no pooling or Flatten layer to read features from');
  let out = layer.inboundNodes[0].outputTensors[0];
  if (out.shape.length > 2) out = tf.layers.flatten({ name: 'graft_features_flatten' }).apply(out) as tf.SymbolicTensor;
  return tf.model({ inputs: model.inputs, outputs: out, name: 'user_backbone' });
}

export async function loadUserModel(ref: UserRef, opts: { imageSize?: number; allowedFileRoot?: string }): Promise<Backbone> {
  const handler = handlerFor(ref.url, opts.allowedFileRoot);
  let loaded: tf.LayersModel;
  try {
    loaded = await tf.loadLayersModel(handler);
  } catch (err) {
    if (err instanceof GraftError && err.code === ErrorCode.urlNotAllowed) throw err;
    throw new GraftError(ErrorCode.backboneLoadFailed, `could not load a TF.js layers model from ${ref.url}: ${(err as Error).message}`);
  }
  try {
    const [, h, w, c] = loaded.inputs[0].shape;
    if (loaded.inputs.length !== 1 || loaded.inputs[0].shape.length !== 4 || c !== 3) {
      throw new GraftError(ErrorCode.backboneLoadFailed, `backbone ${ref.url} must take one [n, h, w, 3] image input, has ${JSON.stringify(loaded.inputs.map((i) => i.shape))}`);
    }
    if (h !== w && h != null && w != null) throw new GraftError(ErrorCode.backboneLoadFailed, `backbone ${ref.url} takes non-square ${h}×${w} images`);
    const fixed = h ?? null;
    const imageSize = opts.imageSize ?? fixed ?? ref.imageSize ?? 224;
    if (fixed != null && imageSize !== fixed) {
      throw new GraftError(ErrorCode.invalidHyperparameters, `backbone ${ref.url} takes ${fixed}×${fixed} images only; imageSize ${imageSize} is not possible`);
    }
    const model = featuresModel(loaded);
    const ends = genericBlockEnds(model);
    const [lo, hi] = (ref.pixelRange ?? '0,1').split(',').map(Number);
    const info: BackboneInfo = {
      id: ref.url,
      name: `user model ${ref.url}`,
      nativeImageSize: fixed ?? ref.imageSize ?? imageSize,
      imageSizes: fixed != null ? { min: fixed, max: fixed, multipleOf: 1 } : { min: 16, max: 1024, multipleOf: 1 },
      pixelRange: [lo, hi],
      blocks: ends.length,
      featureDim: model.outputs[0].shape[1] as number,
      source: ref.url,
    };
    return makeBackbone(info, imageSize, model, ends, loaded);
  } catch (err) {
    loaded.dispose();
    if (err instanceof GraftError) throw err;
    throw new GraftError(ErrorCode.backboneLoadFailed, `backbone ${ref.url} is not usable: ${(err as Error).message}`);
  }
}

// A user's own model used as a backbone: a TF.js layers model.json or an ONNX file (imported into TF.js
// layers), by http(s):// URL or file:// path. Its last pooled or flattened layer gives the features, block
// ends are found generically.
import * as tf from '@tensorflow/tfjs';
import { ErrorCode, GraftError, type BackboneRef } from '@graft/spec';
import { decoderPreprocessing } from '../preprocess/normalization.ts';
import { genericBlockEnds } from './blocks.ts';
import { onnxToLayers } from '@graft/onnx';
import { readLayersModel, readModelFile, type ModelFileOptions } from './model-files.ts';
import { makeBackbone, type Backbone } from './load-backbone.ts';
import type { BackboneInfo } from './registry.ts';

type UserRef = Exclude<BackboneRef, string>;

const featureLayerClasses = ['GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'Flatten'];

/** The model cut at its last pooled/flattened layer (flattened if it is still a feature map). */
function featuresModel(model: tf.LayersModel): tf.LayersModel {
  const layer = [...model.layers].reverse().find((l) => featureLayerClasses.includes(l.getClassName()) || /Pooling2D$/.test(l.getClassName()));
  if (!layer) throw new Error('the model has no pooling or Flatten layer to read features from');
  let out = layer.inboundNodes[0].outputTensors[0];
  if (out.shape.length > 2) out = tf.layers.flatten({ name: 'graft_features_flatten' }).apply(out) as tf.SymbolicTensor;
  return tf.model({ inputs: model.inputs, outputs: out, name: 'user_backbone' });
}

export async function loadUserModel(ref: UserRef, opts: ModelFileOptions & { imageSize?: number }): Promise<Backbone> {
  const onnx = ref.format === 'onnx' || (ref.format === undefined && /\.onnx$/i.test(new URL(ref.url, 'file:///').pathname));
  let loaded: tf.LayersModel;
  try {
    loaded = onnx ? onnxToLayers(await readModelFile(ref.url, opts)).model : await tf.loadLayersModel(tf.io.fromMemory(await readLayersModel(ref.url, opts)));
  } catch (err) {
    if (err instanceof GraftError) throw err;
    throw new GraftError(ErrorCode.backboneLoadFailed, `could not load ${onnx ? 'an ONNX' : 'a TF.js layers'} model from ${ref.url}: ${(err as Error).message}`);
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
    if (ref.pixelRange && ref.preprocessing) {
      throw new GraftError(ErrorCode.validation, `backbone ${ref.url}: give either pixelRange or preprocessing, not both`);
    }
    const [lo, hi] = (ref.pixelRange ?? '0,1').split(',').map(Number);
    const normalized = ref.preprocessing === undefined ? null : decoderPreprocessing({ pixelRange: [lo, hi], preprocessing: ref.preprocessing }, imageSize);
    const info: BackboneInfo = {
      id: ref.url,
      name: `user model ${ref.url}`,
      nativeImageSize: fixed ?? ref.imageSize ?? imageSize,
      imageSizes: fixed != null ? { min: fixed, max: fixed, multipleOf: 1 } : { min: 16, max: 1024, multipleOf: 1 },
      pixelRange: normalized ? normalized.pixelRange : [lo, hi],
      ...(normalized ? { preprocessing: ref.preprocessing } : {}),
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

// loadBackbone: a registered pretrained backbone (or a user's TF.js model) at the requested image size,
// as one Keras model image -> pooled features, with split() for the frozen-prefix / trainable-suffix design.
import * as tf from '@tensorflow/tfjs';
import { ErrorCode, GraftError, type BackboneRef } from '@graft/spec';
import { initBackend } from '../runtime/backend.ts';
import { adaptInputSize } from './adapt-input-size.ts';
import { blockEnds } from './blocks.ts';
import type { KerasModelTopology } from './keras-topology.ts';
import { defaultBackboneId, findBackbone, listBackbones, type BackboneInfo } from './registry.ts';
import { splitAtBlocks, type SplitModel } from './split.ts';
import type { ModelFileOptions } from './model-files.ts';
import { loadUserModel } from './user-model.ts';

export interface Backbone {
  info: BackboneInfo;
  imageSize: number;
  /** image [n, s, s, 3] in info.pixelRange -> pooled features [n, info.featureDim] */
  model: tf.LayersModel;
  /** the block-end layer names split() cuts at, input to output (block-end features pool the same ones) */
  ends: readonly string[];
  /**
   * Prefix and suffix share the layers (and weights) of `model`: do not dispose them; dispose() here
   * frees the weights of all three.
   */
  split(trainableBlocks: number | 'all'): SplitModel;
  dispose(): void;
}

/** A model from a topology and named weights; every weight of the model must be provided. */
export async function buildModel(topology: KerasModelTopology, weights: tf.NamedTensorMap): Promise<tf.LayersModel> {
  const model = await tf.models.modelFromJSON({ modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'] });
  const needed: tf.NamedTensorMap = {};
  for (const w of model.weights) {
    const value = weights[w.originalName];
    if (!value) throw new Error(`no pretrained value for weight ${w.originalName}`);
    needed[w.originalName] = value;
  }
  model.loadWeights(needed);
  return model;
}

function checkImageSize(info: BackboneInfo, imageSize: number): void {
  const { min, max, multipleOf } = info.imageSizes;
  if (!Number.isInteger(imageSize) || imageSize < min || imageSize > max || imageSize % multipleOf !== 0) {
    throw new GraftError(
      ErrorCode.invalidHyperparameters,
      `imageSize ${imageSize} is not valid for backbone ${info.id}: use ${min}…${max}${multipleOf > 1 ? `, a multiple of ${multipleOf}` : ''}`,
    );
  }
}

/**
 * Frees every weight once. Model.dispose() is not enough: split() re-applies the layers (raising their
 * reference counts) and a served model built on them may already have freed some (hence the try).
 */
function releaseWeights(model: tf.LayersModel): void {
  for (const w of new Set(model.weights)) {
    try {
      w.dispose();
    } catch {
      // already freed together with a model built on these layers
    }
  }
}

/** `owner` holds all the weights to free (a user model's own head included); defaults to `model`. */
export function makeBackbone(info: BackboneInfo, imageSize: number, model: tf.LayersModel, ends: string[], owner = model): Backbone {
  return {
    info,
    imageSize,
    model,
    ends,
    split(trainableBlocks) {
      try {
        return splitAtBlocks(model, ends, trainableBlocks);
      } catch (err) {
        if (err instanceof RangeError) throw new GraftError(ErrorCode.invalidHyperparameters, `${err.message} (backbone ${info.id} has ${ends.length} blocks)`);
        throw err;
      }
    },
    dispose: () => releaseWeights(owner),
  };
}

async function loadRegistered(id: string, imageSize: number | undefined): Promise<Backbone> {
  const entry = findBackbone(id);
  if (!entry) {
    throw new GraftError(ErrorCode.unknownBackbone, `unknown backbone "${id}"; registered: ${listBackbones().map((b) => b.id).join(', ')}, or { url } of a TF.js layers model`);
  }
  const size = imageSize ?? entry.info.nativeImageSize;
  checkImageSize(entry.info, size);
  const unavailable = entry.unavailable?.();
  if (unavailable) throw new GraftError(ErrorCode.backboneLoadFailed, `backbone ${id} is not available: ${unavailable}`);
  let weights: tf.NamedTensorMap = {};
  try {
    let model: tf.LayersModel;
    let ends: string[];
    if (entry.build) {
      ({ model, ends } = await entry.build(size));
    } else {
      const source = entry.read!();
      weights = source.weights;
      model = await buildModel(adaptInputSize(source.topology, size), weights);
      ends = blockEnds(id, model);
    }
    const featureDim = model.outputs[0].shape[1];
    if (featureDim !== entry.info.featureDim) throw new Error(`features have ${featureDim} dims, registry says ${entry.info.featureDim}`);
    return makeBackbone(structuredClone(entry.info), size, model, ends);
  } catch (err) {
    throw new GraftError(ErrorCode.backboneLoadFailed, `backbone ${id} failed to load: ${(err as Error).message}`);
  } finally {
    tf.dispose(Object.values(weights));
  }
}

/** Loads a backbone (default mobilenet_v2 at its native size). Initialises the TF.js backend if needed. */
export async function loadBackbone(ref: BackboneRef | undefined, opts: ModelFileOptions & { imageSize?: number } = {}): Promise<Backbone> {
  await initBackend();
  if (typeof ref === 'object' && ref !== null) return loadUserModel(ref, opts);
  return loadRegistered(ref ?? defaultBackboneId, opts.imageSize);
}

// The backbone as the head sees it with `features: 'block_ends'`: the globally pooled output of EVERY block end,
// concatenated, instead of the last layer's pooled features alone. Early blocks carry texture and shape cues
// that the last block has specialised away from, which a classifier on few labels can use (Fashion-MNIST, 40
// labels/class: ~0.80 against 0.72 for the last layer; issue #10). The cut is part of the model, so the served
// model, the ONNX export and /predict all see the same concatenated features: still one graph, image -> features.
// With trainable blocks (fine_tune, multi_task) the frozen prefix pools its own block ends once, beside the
// activation the suffix trains on: the prefix's one output is [flattened cut activation | pooled frozen ends],
// which splitPrefixRows() separates into the suffix's input and the head's cached side features.
import * as tf from '@tensorflow/tfjs';
import { ErrorCode, GraftError } from '@graft/spec';
import type { Backbone } from './load-backbone.ts';
import { splitAtBlocks } from './split.ts';

/** The layer name of the concatenated features (also what checkpoints show for this backbone cut). */
export const BLOCK_FEATURES_LAYER = 'graft_block_features';

/** How a block-features prefix lays out each image's row: the suffix's activation first, then the side features. */
export interface PrefixRowLayout {
  /** per-image shape of the activation the suffix reads, e.g. [4, 4, 160] */
  activationShape: number[];
  /** pooled frozen block ends after it */
  sideDim: number;
}

export interface BlockFeaturesBackbone extends Backbone {
  /** set when blocks train: the prefix rows hold the side features after the activation */
  layout: PrefixRowLayout | null;
}

/** Pooled [n, c] of each named layer's output (2-D outputs as they are). */
function pooledEnds(model: tf.LayersModel, names: string[]): tf.SymbolicTensor[] {
  return names.flatMap((name) => {
    const t = model.getLayer(name).inboundNodes[0].outputTensors[0];
    if (t.shape.length === 2) return [t];
    if (t.shape.length !== 4) return [];
    return [tf.layers.globalAveragePooling2d({ name: `graft_pool_${name}` }).apply(t) as tf.SymbolicTensor];
  });
}

const concat = (name: string, xs: tf.SymbolicTensor[]) => tf.layers.concatenate({ name }).apply(xs) as tf.SymbolicTensor;

/**
 * The backbone as image -> [pooled end of each frozen block, …, the model's own pooled output]. With
 * `trainableBlocks` 0 every block end before the last is pooled; with k > 0 the block ends up to the cut (the
 * last k blocks train and only their common output is read, so the suffix stays the plain backbone's). Shares
 * the backbone's layers and weights; split() accepts only the depth it was built for.
 */
export function blockFeaturesBackbone(backbone: Backbone, trainableBlocks: number | 'all' = 0): BlockFeaturesBackbone {
  // the ends split() cuts at (a Keras application's own, e.g. VGG's pools), so the pooled frozen ends stop
  // exactly at the suffix's input
  const { model, ends } = backbone;
  const k = trainableBlocks === 'all' ? ends.length : trainableBlocks;
  if (!Number.isInteger(k) || k < 0 || k >= ends.length) {
    throw new GraftError(
      ErrorCode.invalidHyperparameters,
      `features 'block_ends' needs a frozen prefix whose block ends the head reads: trainableBlocks must be 0…${ends.length - 1} on ${backbone.info.id} (got ${trainableBlocks}); use features 'last_layer' to train the whole network.`,
    );
  }
  const frozen = k === 0 ? ends.slice(0, -1) : ends.slice(0, ends.length - k);
  const pooled = pooledEnds(model, frozen);
  if (pooled.length === 0) return { ...backbone, layout: null };
  const features = concat(BLOCK_FEATURES_LAYER, [...pooled, model.outputs[0]]);
  const cut = tf.model({ inputs: model.inputs, outputs: features, name: `${model.name}_block_features` });
  const featureDim = features.shape[1] as number;
  const info = { ...backbone.info, featureDim };
  if (k === 0) {
    return { ...backbone, info, model: cut, layout: null, split: (t) => (t === 0 ? splitAtBlocks(cut, [BLOCK_FEATURES_LAYER], 0) : wrongDepth(t, 0)) };
  }
  // the cut activation flattened, then the pooled frozen ends: one row per image for the prefix cache
  const boundary = model.getLayer(frozen[frozen.length - 1]).inboundNodes[0].outputTensors[0];
  const activationShape = boundary.shape.slice(1) as number[];
  const flat = tf.layers.flatten({ name: 'graft_prefix_activation' }).apply(boundary) as tf.SymbolicTensor;
  const prefixOut = concat('graft_prefix_rows', [flat, ...pooled]);
  const layout: PrefixRowLayout = { activationShape, sideDim: featureDim - (model.outputs[0].shape[1] as number) };
  return {
    ...backbone,
    info,
    model: cut,
    layout,
    split(t) {
      if (t !== trainableBlocks) return wrongDepth(t, trainableBlocks);
      const { suffix } = backbone.split(k);
      return { prefix: tf.model({ inputs: model.inputs, outputs: prefixOut, name: `${model.name}_prefix_rows` }), suffix };
    },
  };
}

function wrongDepth(asked: number | 'all', built: number | 'all'): never {
  throw new RangeError(`block features were built for trainableBlocks ${built}, not ${asked}`);
}

/** One view's rows [count × (activation + side)] split into the suffix's activations and the head's side features. */
export function splitPrefixRows(rows: Float32Array, count: number, layout: PrefixRowLayout): { activation: Float32Array; side: Float32Array } {
  const a = layout.activationShape.reduce((x, y) => x * y, 1);
  const s = layout.sideDim;
  const activation = new Float32Array(count * a);
  const side = new Float32Array(count * s);
  for (let i = 0; i < count; i++) {
    activation.set(rows.subarray(i * (a + s), i * (a + s) + a), i * a);
    side.set(rows.subarray(i * (a + s) + a, (i + 1) * (a + s)), i * s);
  }
  return { activation, side };
}

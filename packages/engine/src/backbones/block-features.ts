// feature_extraction's view of a backbone: the globally pooled output of EVERY block end, concatenated, instead
// of the last layer's pooled features alone. Early blocks carry texture and shape cues that the last block has
// specialised away from, which a linear classifier on few labels can use (Fashion-MNIST, 40 labels/class: ~0.80
// against 0.72 for the last layer; issue #10). The cut is part of the model, so the served model, the ONNX
// export and /predict all see the same concatenated features: still one graph, image -> features.
import * as tf from '@tensorflow/tfjs';
import type { Backbone } from './load-backbone.ts';
import { blockEnds } from './blocks.ts';
import { splitAtBlocks } from './split.ts';

/** The layer name of the concatenated features (also what checkpoints show for this backbone cut). */
export const BLOCK_FEATURES_LAYER = 'graft_block_features';

/**
 * The backbone as image -> [pooled block_1 end, …, pooled last block] (the model's own pooled output last).
 * Shares the backbone's layers and weights; only frozen use (trainableBlocks 0) is supported.
 */
export function blockFeaturesBackbone(backbone: Backbone): Backbone {
  const { model } = backbone;
  const ends = blockEnds(backbone.info.id, model);
  // the last block end is what the model already pools into its output
  const pooled = ends.slice(0, -1).flatMap((name) => {
    const t = model.getLayer(name).inboundNodes[0].outputTensors[0];
    if (t.shape.length === 2) return [t];
    if (t.shape.length !== 4) return [];
    return [tf.layers.globalAveragePooling2d({ name: `graft_pool_${name}` }).apply(t) as tf.SymbolicTensor];
  });
  if (pooled.length === 0) return backbone;
  const outputs = [...pooled, model.outputs[0]];
  const features = tf.layers.concatenate({ name: BLOCK_FEATURES_LAYER }).apply(outputs) as tf.SymbolicTensor;
  const cut = tf.model({ inputs: model.inputs, outputs: features, name: `${model.name}_block_features` });
  const featureDim = features.shape[1] as number;
  return {
    ...backbone,
    info: { ...backbone.info, featureDim },
    model: cut,
    split(trainableBlocks) {
      if (trainableBlocks !== 0) throw new RangeError('block features are for a frozen backbone (trainableBlocks 0)');
      return splitAtBlocks(cut, [BLOCK_FEATURES_LAYER], 0);
    },
  };
}

// The SERVED model: one tf.LayersModel from a preprocessed image to class probabilities — the whole backbone
// (frozen prefix + trained suffix weights) followed by the method's head and a softmax. /predict, the ONNX
// exporter and users' own TF.js code all load this one graph.
import * as tf from '@tensorflow/tfjs';
import type { LayerStack } from '../methods/heads.ts';

/**
 * Copy the trained suffix's weights into the backbone's layers of the same name. When split() built the suffix
 * from the backbone's own layer objects this is a no-op; when it rebuilt them, this carries the training over.
 */
function carrySuffixWeights(backbone: tf.LayersModel, suffix: tf.LayersModel): void {
  for (const layer of suffix.layers) {
    if (layer.weights.length === 0) continue;
    let target: tf.layers.Layer;
    try {
      target = backbone.getLayer(layer.name);
    } catch {
      continue; // layers split() added (e.g. an input adapter) have no counterpart
    }
    if (target !== layer) target.setWeights(layer.getWeights());
  }
}

export function buildServedModel(backbone: tf.LayersModel, suffix: tf.LayersModel, head: LayerStack): tf.LayersModel {
  carrySuffixWeights(backbone, suffix);
  const features = backbone.outputs[0];
  const probabilities = tf.layers.activation({ activation: 'softmax', name: 'graft_probabilities' }).apply(head.apply(features));
  return tf.model({ inputs: backbone.inputs, outputs: probabilities as tf.SymbolicTensor, name: 'graft_served_model' });
}

// The SERVED model: one tf.LayersModel from a preprocessed image to class probabilities — the whole backbone
// (frozen prefix + trained suffix weights) followed by the method's head and a softmax; with flipViews the mean
// of the probabilities of the image and of its horizontal mirror, through the same layers. /predict, the ONNX
// exporter and users' own TF.js code all load this one graph, made of TF.js's built-in layers only.
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

/**
 * The horizontal mirror of images [n, h, w, c] from built-in layers (a plain tf.loadLayersModel opens them, and
 * the ONNX export maps them): the width axis moved last, a frozen Dense whose kernel is the w × w reversal
 * (exact: every output is one input times 1), the axes moved back.
 */
function mirrorImages(image: tf.SymbolicTensor): tf.SymbolicTensor {
  const w = image.shape[2]!;
  const widthLast = tf.layers.permute({ dims: [1, 3, 2], name: 'graft_mirror_width_last' }).apply(image) as tf.SymbolicTensor;
  const reverse = tf.layers.dense({ units: w, useBias: false, trainable: false, name: 'graft_mirror' });
  const reversed = reverse.apply(widthLast) as tf.SymbolicTensor;
  const kernel = new Float32Array(w * w);
  for (let j = 0; j < w; j++) kernel[j * w + (w - 1 - j)] = 1;
  tf.tidy(() => reverse.setWeights([tf.tensor2d(kernel, [w, w])]));
  return tf.layers.permute({ dims: [1, 3, 2], name: 'graft_mirror_width_back' }).apply(reversed) as tf.SymbolicTensor;
}

/** The model's graph from its input to its output, applied again (same layers, same weights) to `input`. */
function applyAgain(model: tf.LayersModel, input: tf.SymbolicTensor): tf.SymbolicTensor {
  const values = new Map<number, tf.SymbolicTensor>([[model.inputs[0].id, input]]);
  const valueOf = (t: tf.SymbolicTensor): tf.SymbolicTensor => {
    const known = values.get(t.id);
    if (known) return known;
    const node = t.sourceLayer.inboundNodes[t.nodeIndex];
    const ins = node.inputTensors.map(valueOf);
    const outs = t.sourceLayer.apply(ins.length === 1 ? ins[0] : ins, node.callArgs) as tf.SymbolicTensor | tf.SymbolicTensor[];
    [outs].flat().forEach((o, k) => values.set(node.outputTensors[k].id, o));
    return values.get(t.id)!;
  };
  return valueOf(model.outputs[0]);
}

export function buildServedModel(backbone: tf.LayersModel, suffix: tf.LayersModel, head: LayerStack, o: { mirrors?: boolean } = {}): tf.LayersModel {
  carrySuffixWeights(backbone, suffix);
  const features = backbone.outputs[0];
  const name = 'graft_served_model';
  if (!o.mirrors) {
    const probabilities = tf.layers.activation({ activation: 'softmax', name: 'graft_probabilities' }).apply(head.apply(features));
    return tf.model({ inputs: backbone.inputs, outputs: probabilities as tf.SymbolicTensor, name });
  }
  // the mean of the probabilities, not of the logits: the probe's cross-validation judged mirrors that way
  const softmax = tf.layers.activation({ activation: 'softmax', name: 'graft_view_probabilities' });
  const views = [features, applyAgain(backbone, mirrorImages(backbone.inputs[0]))].map((f) => softmax.apply(head.apply(f)) as tf.SymbolicTensor);
  const probabilities = tf.layers.average({ name: 'graft_probabilities' }).apply(views);
  return tf.model({ inputs: backbone.inputs, outputs: probabilities as tf.SymbolicTensor, name });
}

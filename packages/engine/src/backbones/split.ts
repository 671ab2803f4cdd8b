// Cuts a functional model after a block end into prefix (input -> that block's output) and suffix
// (a new input of that shape -> the model's output). Both reuse the model's own layer objects, so
// training the suffix trains the backbone's weights in place: the full model stays the served path.
import * as tf from '@tensorflow/tfjs';

export interface SplitModel {
  /** null when the whole network trains */
  prefix: tf.LayersModel | null;
  /** prefix output -> pooled features */
  suffix: tf.LayersModel;
}

/** Rebuilds the part of `model` after layer `boundary` on a fresh input, following each layer's first (original) call. */
function suffixAfter(model: tf.LayersModel, boundary: tf.layers.Layer): tf.LayersModel {
  const boundaryOut = boundary.inboundNodes[0].outputTensors[0];
  const input = tf.input({ shape: boundaryOut.shape.slice(1) as number[], name: `${boundary.name}_features_in` });
  const mapped = new Map<number, tf.SymbolicTensor>([[boundaryOut.id, input]]);
  const start = model.layers.indexOf(boundary) + 1;
  for (const layer of model.layers.slice(start)) {
    const node = layer.inboundNodes[0];
    const ins = node.inputTensors.map((t) => {
      const m = mapped.get(t.id);
      if (!m) throw new Error(`cannot cut after ${boundary.name}: ${layer.name} also reads ${t.name} from before the cut`);
      return m;
    });
    const out = layer.apply(ins.length === 1 ? ins[0] : ins, node.callArgs) as tf.SymbolicTensor | tf.SymbolicTensor[];
    const outs = Array.isArray(out) ? out : [out];
    node.outputTensors.forEach((t, i) => mapped.set(t.id, outs[i]));
  }
  const outputs = model.outputs.map((t) => mapped.get(t.id) ?? fail(`output ${t.name} does not depend on the cut`));
  return tf.model({ inputs: input, outputs: outputs.length === 1 ? outputs[0] : outputs, name: `${model.name}_suffix_${boundary.name}` });
}

function fail(message: string): never {
  throw new Error(message);
}

/** Identity over the pooled features, for a fully frozen backbone. */
function identityOver(model: tf.LayersModel): tf.LayersModel {
  const features = tf.input({ shape: model.outputs[0].shape.slice(1) as number[], name: 'features_in' });
  return tf.model({ inputs: features, outputs: features, name: `${model.name}_suffix_identity` });
}

/**
 * Cuts so that the last `trainableBlocks` of `ends` (block-end layer names, input to output) are in
 * the suffix. 0 -> prefix = whole model, suffix = identity; ends.length or 'all' -> no prefix.
 */
export function splitAtBlocks(model: tf.LayersModel, ends: string[], trainableBlocks: number | 'all'): SplitModel {
  const k = trainableBlocks === 'all' ? ends.length : trainableBlocks;
  if (!Number.isInteger(k) || k < 0 || k > ends.length) throw new RangeError(`trainableBlocks must be 0…${ends.length} or "all", got ${trainableBlocks}`);
  if (k === ends.length) return { prefix: null, suffix: model };
  if (k === 0) return { prefix: model, suffix: identityOver(model) };
  const boundary = model.getLayer(ends[ends.length - 1 - k]);
  const prefix = tf.model({ inputs: model.inputs, outputs: boundary.inboundNodes[0].outputTensors[0], name: `${model.name}_prefix_${boundary.name}` });
  return { prefix, suffix: suffixAfter(model, boundary) };
}

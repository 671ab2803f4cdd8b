// Where each block of a backbone ends: the layers after which exactly one tensor flows on, so the
// network can be cut there into a frozen prefix and a trainable suffix (a residual connection never
// straddles the cut). Listed from the input towards the features.
import type * as tf from '@tensorflow/tfjs';

function has(model: tf.LayersModel, name: string): boolean {
  return model.layers.some((l) => l.name === name);
}

const namedBlockEnds: Record<string, (model: tf.LayersModel) => string[]> = {
  // block_N ends in block_N_add when it has a residual connection, else in block_N_project_BN; then Conv_1 + out_relu
  mobilenet_v2: (m) => [
    'expanded_conv_project_BN',
    ...Array.from({ length: 16 }, (_, i) => (has(m, `block_${i + 1}_add`) ? `block_${i + 1}_add` : `block_${i + 1}_project_BN`)),
    'out_relu',
  ],
  mobilenet_v2_mid: (m) => [
    ...Array.from({ length: 17 }, (_, i) => {
      const block = i === 0 ? 'expanded_conv' : `expanded_conv_${i}`;
      return has(m, `${block}_add`) ? `${block}_add` : `${block}_project`;
    }),
    'Conv_1',
  ],
  // mixed9_0 / mixed9_1 are concatenations inside mixed9 / mixed10, not block ends
  inception_v3: () => Array.from({ length: 11 }, (_, i) => `mixed${i}`),
};

/** Indices i (into model.layers) after which the only tensor still needed later is layer i's output. */
export function singleTensorCuts(model: tf.LayersModel): number[] {
  const index = new Map(model.layers.map((l, i) => [l.name, i]));
  const lastUse = model.layers.map(() => -1);
  model.layers.forEach((layer, i) => {
    for (const src of layer.inboundNodes[0]?.inboundLayers ?? []) {
      const j = index.get(src.name)!;
      lastUse[j] = Math.max(lastUse[j], i);
    }
  });
  for (const out of model.outputLayers) lastUse[index.get(out.name)!] = Infinity;
  const cuts: number[] = [];
  let openUntil = -1; // furthest consumer of anything produced so far, excluding the current layer
  model.layers.forEach((layer, i) => {
    if (openUntil <= i && layer.inboundNodes[0]?.outputTensors.length === 1) cuts.push(i);
    openUntil = Math.max(openUntil, lastUse[i]);
  });
  return cuts;
}

/**
 * Block ends of a model without a known structure: single-tensor cuts that feed a layer with weights
 * (a conv or dense starts a new block), plus the features at the end.
 */
export function genericBlockEnds(model: tf.LayersModel): string[] {
  const layers = model.layers;
  const ends = singleTensorCuts(model)
    .filter((i) => i > 0 && i + 1 < layers.length && layers[i + 1].weights.length > 0 && layers[i].getClassName() !== 'InputLayer')
    .map((i) => layers[i].name);
  const last = layers[layers.length - 1].name;
  return ends[ends.length - 1] === last ? ends : [...ends, last];
}

/** The block ends of a registered backbone, or the generic ones for any other model. */
export function blockEnds(backboneId: string, model: tf.LayersModel): string[] {
  const named = namedBlockEnds[backboneId];
  return named ? named(model) : genericBlockEnds(model);
}

// The packaged topologies take one fixed input size and end in a fixed-size AveragePooling2D (7×7 for
// MobileNetV2 at 224) + Flatten + their own classifier. To run at another size with the same weights,
// the input shape is rewritten, the features pool becomes GlobalAveragePooling2D (identical to the fixed
// pool at the native size, correct at every other size) and everything after it is dropped.
import type { KerasLayerConfig, KerasModelTopology } from './keras-topology.ts';

const poolClasses = ['AveragePooling2D', 'MaxPooling2D', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D'];

function inboundNames(layer: KerasLayerConfig): string[] {
  return layer.inbound_nodes.flatMap((node) => node.map((ref) => ref[0]));
}

/** The pool whose output the classifier reads: the input of the last Flatten, else the last global pool. */
function featuresPool(layers: KerasLayerConfig[]): KerasLayerConfig {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const flatten = layers.filter((l) => l.class_name === 'Flatten').pop();
  const pool = flatten
    ? byName.get(inboundNames(flatten)[0])
    : layers.filter((l) => l.class_name === 'GlobalAveragePooling2D' || l.class_name === 'GlobalMaxPooling2D').pop();
  if (!pool || !poolClasses.includes(pool.class_name)) throw new Error('cannot find the pooling layer that produces the features');
  return pool;
}

function ancestorsOf(layers: KerasLayerConfig[], name: string): Set<string> {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const seen = new Set<string>();
  const stack = [name];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push(...inboundNames(byName.get(n)!));
  }
  return seen;
}

/**
 * A copy of the topology for square inputs of `imageSize` that outputs the pooled feature vector.
 * All layers are made trainable (the packaged models froze theirs; which part trains is the split's
 * business) and initialisers are zeros, because the pretrained weights overwrite them right away.
 */
export function adaptInputSize(topology: KerasModelTopology, imageSize: number): KerasModelTopology {
  const t = structuredClone(topology);
  const pool = featuresPool(t.config.layers);
  const keep = ancestorsOf(t.config.layers, pool.name);
  t.config.layers = t.config.layers.filter((l) => keep.has(l.name));
  for (const layer of t.config.layers) {
    if (layer.class_name === 'InputLayer') {
      const shape = layer.config.batch_input_shape as (number | null)[];
      layer.config.batch_input_shape = [null, imageSize, imageSize, shape[3] ?? 3];
    }
    if ('trainable' in layer.config) layer.config.trainable = true;
    for (const key of Object.keys(layer.config)) {
      if (key.endsWith('_initializer')) layer.config[key] = { class_name: 'Zeros', config: {} };
    }
  }
  if (pool.class_name === 'AveragePooling2D' || pool.class_name === 'MaxPooling2D') {
    const global = pool.class_name === 'AveragePooling2D' ? 'GlobalAveragePooling2D' : 'GlobalMaxPooling2D';
    Object.assign(pool, { class_name: global, config: { name: pool.name, trainable: true, data_format: 'channels_last' } });
  }
  t.config.output_layers = [[pool.name, 0, 0]];
  return t;
}

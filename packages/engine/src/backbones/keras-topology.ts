// The subset of a Keras functional-model config (as TF.js reads it) that our rewrites touch.
export type InboundRef = [string, number, number, Record<string, unknown>?];

export interface KerasLayerConfig {
  class_name: string;
  name: string;
  config: Record<string, unknown> & { name: string };
  inbound_nodes: InboundRef[][];
}

export interface KerasModelTopology {
  class_name: 'Model' | 'Functional';
  config: {
    name: string;
    layers: KerasLayerConfig[];
    input_layers: [string, number, number][];
    output_layers: [string, number, number][];
  };
}

/** Accepts both a bare { class_name, config } and a model.json topology { model_config: {...}, keras_version, ... }. */
export function unwrapTopology(topology: Record<string, unknown>): KerasModelTopology {
  const inner = (topology.model_config ?? topology) as KerasModelTopology;
  if (!inner?.config?.layers || !['Model', 'Functional', 'Sequential'].includes(inner.class_name)) {
    throw new Error('not a Keras functional model topology');
  }
  return inner;
}

// Walks a tf.js LayersModel's functional graph (nested models included) and emits one ONNX model:
// NHWC at the API, NCHW inside (one Transpose at each rank-4 input and output), BatchNorm and zero
// padding folded into the convolutions. A layer without a mapping throws UnsupportedLayerError.
import type * as tf from '@tensorflow/tfjs';
import { activationExporters } from './activations.ts';
import { convExporters, foldBatchNormIntoConv, foldPadIntoConv } from './conv.ts';
import { denseExporters } from './dense.ts';
import { UnsupportedLayerError, type LayerExporter } from './layer-export.ts';
import { NCHW_TO_NHWC, NHWC_TO_NCHW } from './layout.ts';
import { normalizationExporters } from './normalization.ts';
import { OnnxGraph, type Attr, type GraphIo, type Value } from './onnx-graph.ts';
import { poolingExporters } from './pooling.ts';
import { structureExporters } from './structure.ts';

export const ONNX_OPSET = 13;
export const PRODUCER_VERSION = '0.1.0';

const exporters: Record<string, LayerExporter> = {
  ...convExporters,
  ...normalizationExporters,
  ...activationExporters,
  ...poolingExporters,
  ...denseExporters,
  ...structureExporters,
};

/** The class names the exporter maps (anything else is refused). */
export const exportableLayers: readonly string[] = Object.keys(exporters).concat('InputLayer');

export interface ExportOptions {
  /** string metadata stored in the file (labels, preprocessing, …), readable by any ONNX tool */
  metadata?: Record<string, string>;
  docString?: string;
}

// The parts of tf.js' (untyped-in-public) graph structures the walk reads.
interface SymbolicTensor {
  id: number;
  shape: (number | null)[];
  sourceLayer: Layer;
  nodeIndex: number;
}
interface Layer {
  name: string;
  getClassName(): string;
  getConfig(): Record<string, unknown>;
  weights: { read(): tf.Variable }[];
  inboundNodes: { inputTensors: SymbolicTensor[]; outputTensors: SymbolicTensor[] }[];
}
interface Container extends Layer {
  inputs: SymbolicTensor[];
  outputs: SymbolicTensor[];
  layers: Layer[];
}

const isContainer = (l: Layer): l is Container => Array.isArray((l as Container).layers) && Array.isArray((l as Container).outputs);

/** A model as an ONNX graph before encoding; rank-4 inputs/outputs are NHWC (`dims` as ONNX sees them). */
export interface ExportedGraph {
  graph: OnnxGraph;
  inputs: GraphIo[];
  outputs: GraphIo[];
}

/**
 * The training mode of the exporter: the graph unencoded, BatchNorm and padding folded, every weight
 * still carrying how it derives from the model's variables (see derivation.ts), so a training graph can
 * take the trainable ones as inputs and append the backward pass (../training).
 */
export function exportGraph(model: tf.LayersModel): ExportedGraph {
  const container = model as unknown as Container;
  const graph = new OnnxGraph();
  const single = container.inputs.length === 1;
  const inputs = container.inputs.map((t, k) => {
    const name = single ? 'input' : `input_${k}`;
    graph.reserve(name);
    return { name, shape: t.shape };
  });
  const inner = inputs.map((v): Value => ({
    name: v.shape.length === 4 ? graph.add('Transpose', [v.name], { perm: { ints: NHWC_TO_NCHW } }, `${v.name}/nchw`) : v.name,
    shape: v.shape,
  }));
  const results = walk(graph, container, inner, '');
  const outputs = results.map((v, k) => {
    const name = results.length === 1 ? 'output' : `output_${k}`;
    graph.reserve(name);
    const node: { op: string; attrs: Record<string, Attr> } =
      v.shape.length === 4 ? { op: 'Transpose', attrs: { perm: { ints: NCHW_TO_NHWC } } } : { op: 'Identity', attrs: {} };
    graph.nodes.push({ name: `${name}/${node.op}`, opType: node.op, inputs: [v.name], outputs: [name], attrs: node.attrs });
    return { name, shape: v.shape };
  });
  const keep = new Set(outputs.map((o) => o.name));
  foldBatchNormIntoConv(graph, keep);
  foldPadIntoConv(graph, keep);
  return {
    graph,
    inputs: inputs.map((v) => ({ name: v.name, dims: v.shape })),
    outputs: outputs.map((v) => ({ name: v.name, dims: v.shape })),
  };
}

/** Exports a model whose inputs are images [n, h, w, c] (or flat features) to ONNX bytes (opset 13). */
export function exportToOnnx(model: tf.LayersModel, opts: ExportOptions = {}): Uint8Array {
  const { graph, inputs, outputs } = exportGraph(model);
  graph.shareEqualInitializers();
  return graph.encode({ inputs, outputs, opset: ONNX_OPSET, producerVersion: PRODUCER_VERSION, docString: opts.docString, metadata: opts.metadata });
}

/** Emits the container's layers reachable from its outputs, given the values of its inputs. */
function walk(graph: OnnxGraph, container: Container, inputs: Value[], prefix: string): Value[] {
  const values = new Map<number, Value>();
  container.inputs.forEach((t, k) => values.set(t.id, inputs[k]));
  const valueOf = (t: SymbolicTensor): Value => {
    const known = values.get(t.id);
    if (known) return known;
    const layer = t.sourceLayer;
    const node = layer.inboundNodes[t.nodeIndex];
    const className = layer.getClassName();
    if (className === 'InputLayer') throw new UnsupportedLayerError(layer.name, className, 'an input the model does not declare');
    const ins = node.inputTensors.map(valueOf);
    const outs = isContainer(layer) ? walk(graph, layer, ins, `${prefix}${layer.name}/`) : emitLayer(graph, layer, ins, node.outputTensors, prefix);
    node.outputTensors.forEach((o, k) => values.set(o.id, outs[k]));
    return values.get(t.id)!;
  };
  return container.outputs.map(valueOf);
}

function emitLayer(graph: OnnxGraph, layer: Layer, inputs: Value[], outputs: SymbolicTensor[], prefix: string): Value[] {
  const className = layer.getClassName();
  const exporter = exporters[className];
  if (!exporter) throw new UnsupportedLayerError(layer.name, className, `no ONNX mapping for ${className} (exportable: ${exportableLayers.join(', ')})`);
  return exporter({
    graph,
    name: `${prefix}${layer.name}`,
    className,
    config: layer.getConfig(),
    weights: layer.weights.map((w) => {
      const v = w.read();
      return { shape: v.shape, data: v.dataSync() as Float32Array, variable: v.name };
    }),
    inputs,
    outputShapes: outputs.map((o) => o.shape),
  });
}

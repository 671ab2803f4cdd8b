// nsfwjs' mobilenet_v2_mid is a TF *graph* model (a TF-Hub MobileNetV2 1.4 with BatchNorm folded into
// the convs), which TF.js cannot train or cut into blocks. Its graph is a plain chain of fused convs,
// fused depthwise convs and adds, so it converts one node to one Keras layer with the same weights:
// _FusedConv2D -> Conv2D(+bias, relu6), FusedDepthwiseConv2dNative -> DepthwiseConv2D, AddV2 -> Add,
// the hub's input x·2−1 -> Rescaling, AvgPool -> AveragePooling2D + Flatten (the features; the
// original classifier head after it is dropped).
import type * as tf from '@tensorflow/tfjs';
import type { InboundRef, KerasLayerConfig, KerasModelTopology } from './keras-topology.ts';

interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, { list?: { i?: string[]; s?: string[] }; s?: string; f?: number; shape?: unknown }>;
}

const b64 = (s: string | undefined) => (s ? Buffer.from(s, 'base64').toString('utf8') : '');
const ints = (n: GraphNode, key: string) => (n.attr?.[key]?.list?.i ?? []).map(Number);

/** A readable layer name from a node path: ".../MobilenetV2/expanded_conv_3/expand/Relu6" -> "expanded_conv_3_expand", ".../Conv/Relu6" -> "Conv". */
function layerName(nodeName: string): string {
  const [block, part] = nodeName.replace(/^.*\/(MobilenetV2|predict)\//, '').split('/');
  return ['expand', 'depthwise', 'project', 'add'].includes(part) ? `${block}_${part}` : block;
}

function activationOf(n: GraphNode): string {
  const ops = (n.attr?.fused_ops?.list?.s ?? []).map(b64);
  if (ops.includes('Relu6')) return 'relu6';
  if (ops.includes('Relu')) return 'relu';
  if (ops.some((o) => o !== 'BiasAdd')) throw new Error(`unsupported fused ops ${ops.join('+')} in ${n.name}`);
  return 'linear';
}

export interface ConvertedGraph {
  topology: KerasModelTopology;
  weights: tf.NamedTensorMap;
}

/** Converts the fused-conv graph of a TF-Hub MobileNet into a Keras functional topology plus renamed weights. */
export function graphToLayers(graph: { node: GraphNode[] }, graphWeights: tf.NamedTensorMap): ConvertedGraph {
  const layers: KerasLayerConfig[] = [];
  const weights: tf.NamedTensorMap = {};
  const layerOf = new Map<string, string>(); // graph tensor name -> layer producing it
  const scalar = (name: string) => graphWeights[name].dataSync()[0];
  const inbound = (names: string[]): InboundRef[][] => [names.map((i): InboundRef => [layerOf.get(i) ?? fail(`input ${i} of the graph is not produced by a converted node`), 0, 0, {}])];
  const add = (node: GraphNode, cfg: KerasLayerConfig) => {
    if (layers.some((l) => l.name === cfg.name)) fail(`two nodes map to layer name ${cfg.name}`);
    layers.push(cfg);
    layerOf.set(node.name, cfg.name);
  };
  let output: string | null = null;

  for (const n of graph.node) {
    const inputs = (n.input ?? []).filter((i) => !i.startsWith('^'));
    const padding = b64(n.attr?.padding?.s).toLowerCase();
    switch (n.op) {
      case 'Const':
      case 'Identity':
        break;
      case 'Placeholder': {
        const dims = (n.attr?.shape?.shape as { dim: { size: string }[] }).dim.map((d) => Number(d.size));
        add(n, { class_name: 'InputLayer', name: 'input_1', config: { name: 'input_1', batch_input_shape: [null, ...dims.slice(1)], dtype: 'float32', sparse: false }, inbound_nodes: [] });
        break;
      }
      case 'Mul': {
        // hub_input: x·scale − offset; the Sub node that follows completes it.
        const sub = graph.node.find((m) => m.op === 'Sub' && m.input?.[0] === n.name) ?? fail(`Mul ${n.name} without the following Sub`);
        const scale = scalar(inputs[0]);
        const offset = -scalar(sub.input![1]);
        add(n, { class_name: 'Rescaling', name: 'hub_input', config: { name: 'hub_input', scale, offset }, inbound_nodes: inbound([inputs[1]]) });
        layerOf.set(sub.name, 'hub_input');
        break;
      }
      case 'Sub':
        if (!layerOf.has(n.name)) fail(`unexpected Sub ${n.name}`);
        break;
      case '_FusedConv2D':
      case 'FusedDepthwiseConv2dNative': {
        const depthwise = n.op === 'FusedDepthwiseConv2dNative';
        const name = layerName(n.name);
        const kernel = graphWeights[inputs[1]];
        const [kh, kw, , outOrMult] = kernel.shape;
        const strides = ints(n, 'strides').slice(1, 3);
        const dilation = ints(n, 'dilations').slice(1, 3);
        const common = { name, trainable: true, kernel_size: [kh, kw], strides, padding, data_format: 'channels_last', dilation_rate: dilation, activation: activationOf(n), use_bias: true };
        add(n, {
          class_name: depthwise ? 'DepthwiseConv2D' : 'Conv2D',
          name,
          config: depthwise ? { ...common, depth_multiplier: outOrMult } : { ...common, filters: outOrMult },
          inbound_nodes: inbound([inputs[0]]),
        });
        weights[`${name}/${depthwise ? 'depthwise_kernel' : 'kernel'}`] = kernel;
        weights[`${name}/bias`] = graphWeights[inputs[2]];
        break;
      }
      case 'AddV2': {
        const name = layerName(n.name);
        add(n, { class_name: 'Add', name, config: { name, trainable: true }, inbound_nodes: inbound(inputs) });
        break;
      }
      case 'AvgPool': {
        const name = layerName(n.name);
        const k = ints(n, 'ksize').slice(1, 3);
        add(n, { class_name: 'AveragePooling2D', name, config: { name, trainable: true, pool_size: k, strides: ints(n, 'strides').slice(1, 3), padding, data_format: 'channels_last' }, inbound_nodes: inbound(inputs) });
        layers.push({ class_name: 'Flatten', name: 'flatten', config: { name: 'flatten', trainable: true, data_format: 'channels_last' }, inbound_nodes: [[[name, 0, 0, {}]]] });
        output = 'flatten';
        break;
      }
      default:
        if (output) break; // the original classifier head after the pooled features is not converted
        fail(`graph op ${n.op} (${n.name}) has no layer equivalent`);
    }
  }
  if (!output) fail('graph has no AvgPool producing the features');
  return {
    topology: { class_name: 'Model', config: { name: 'mobilenet_v2_mid', layers, input_layers: [['input_1', 0, 0]], output_layers: [[output, 0, 0]] } },
    weights,
  };
}

function fail(message: string): never {
  throw new Error(`mobilenet_v2_mid conversion: ${message}`);
}

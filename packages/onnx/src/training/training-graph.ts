// A trainable model (image or activation map -> pooled features) as two ONNX models that together give one
// training step's gradients: the forward model returns the features plus the values the backward pass reads;
// the backward model takes those, the same weights and d(loss)/d(features) and returns each weight's gradient.
// Every weight that depends on a trainable variable is a graph input (its Derivation recomputes it from the
// tf.js variables each step), so the tf.js variables stay the source of truth.
import type * as tf from '@tensorflow/tfjs';
import { exportGraph, ONNX_OPSET, PRODUCER_VERSION } from '../export/graph-exporter.ts';
import type { GraphIo, GraphNode } from '../export/onnx-graph.ts';
import { appendBackward, inferShapes } from './backward-graph.ts';
import { NoGradientRuleError } from './gradient-rules.ts';
import { lowerToNhwc } from './nhwc-lowering.ts';
import { expandDepthwiseTaps } from './depthwise-taps.ts';

export interface TrainingParam {
  /** the tf.js variable, fed under its own name */
  name: string;
  dims: number[];
  /** backward-model output holding d(loss)/d(variable); null when the features do not depend on it */
  grad: string | null;
}

export interface TrainingGraph {
  forward: Uint8Array;
  backward: Uint8Array;
  params: TrainingParam[];
  /** names of the data input (NHWC), the features output and the backward model's d(features) input */
  input: string;
  output: string;
  dOutput: string;
  /** per-item shapes of input and features */
  inputShape: number[];
  outputShape: number[];
}

const D_OUTPUT = 'd_output';

function fail(variable: string, reason: string): never {
  throw new NoGradientRuleError(variable, 'weight', `the trainable weight ${variable} ${reason}`);
}

function fixedItemShape(io: GraphIo): number[] {
  const rest = io.dims.slice(1);
  if (!rest.every((d): d is number => d !== null)) throw new NoGradientRuleError(io.name, 'Input', `no fixed size: ${JSON.stringify(io.dims)}`);
  return rest;
}

/** Builds the forward and backward models of `model`; throws UnsupportedLayerError / NoGradientRuleError. */
export function buildTrainingGraph(model: tf.LayersModel): TrainingGraph {
  const { graph: g, inputs, outputs } = exportGraph(model);
  if (inputs.length !== 1 || outputs.length !== 1 || outputs[0].dims.length !== 2) {
    throw new NoGradientRuleError(model.name, 'Model', 'only one input and one [n, features] output train on ONNX Runtime');
  }
  const [input] = inputs;
  const [output] = outputs;
  lowerToNhwc(g, inferShapes(g, new Map([[input.name, input.dims]])));
  const trainable = new Map(model.trainableWeights.map((w) => [(w.read() as tf.Variable).name, w.shape as number[]]));
  const frozen = new Map(model.nonTrainableWeights.map((w) => [(w.read() as tf.Variable).name, w.read()]));
  // every weight that reads a trainable variable is computed in the graph from the variables, fed as inputs
  // under their own names (frozen ones, e.g. BatchNorm statistics, are constants)
  const fed = new Map<string, string>();
  const feed = (v: string): string => {
    let name = fed.get(v);
    if (name) return name;
    if (trainable.has(v)) {
      g.reserve(v);
      name = v;
    } else {
      const t = frozen.get(v) ?? fail(v, 'is not a weight of the model');
      name = g.addFloat(v, t.shape, t.dataSync() as Float32Array);
    }
    fed.set(v, name);
    return name;
  };
  const live = new Set(g.nodes.flatMap((n) => n.inputs));
  const derivedNodes: GraphNode[] = [];
  const scratch = g.nodes.splice(0);
  for (const [name, init] of [...g.initializers]) {
    if (!live.has(name) || !init.derivation?.variables.some((v) => trainable.has(v))) continue;
    const value = init.derivation.emit(g, feed);
    g.initializers.delete(name);
    g.nodes.push({ name: g.uniqueName(`${name}/shape`), opType: 'Reshape', inputs: [value, g.addInt64(`${name}/dims`, init.dims)], outputs: [name], attrs: {} });
  }
  derivedNodes.push(...g.nodes.splice(0));
  g.nodes.push(...derivedNodes, ...scratch);
  for (const v of trainable.keys()) if (!fed.has(v)) fail(v, "does not reach the exported graph's weights");
  const params = [...trainable].map(([name, dims]) => ({ name, dims }));

  const shapes = inferShapes(g, new Map([[input.name, input.dims], ...params.map((p): [string, number[]] => [p.name, p.dims])]));
  const forwardNodes = [...g.nodes];
  g.reserve(D_OUTPUT);
  const grads = appendBackward(g, shapes, output.name, D_OUTPUT, params.map((p) => p.name));
  const backwardNodes = g.nodes.slice(forwardNodes.length);

  const paramNames = new Set(params.map((p) => p.name));
  const { nodes, saved } = backwardNodesAndSaved(forwardNodes, backwardNodes, (v) => paramNames.has(v) || g.initializers.has(v), (v) => v === D_OUTPUT || v === input.name);
  const read = [...new Set(nodes.flatMap((n) => n.inputs))].filter((v) => v && !nodes.some((n) => n.outputs.includes(v)) && !g.initializers.has(v));
  const io = (name: string): GraphIo => ({ name, dims: shapes.get(name)! });
  const gradOutputs = params.flatMap((p): GraphIo[] => {
    const grad = grads.get(p.name);
    return grad ? [{ name: grad, dims: p.dims }] : [];
  });
  const common = { opset: ONNX_OPSET, producerVersion: PRODUCER_VERSION };
  return {
    forward: g.encode({ ...common, nodes: expandDepthwiseTaps(g, forwardNodes), inputs: [input, ...params.map((p) => io(p.name))], outputs: [output, ...[...saved].map(io)] }),
    backward: g.encode({
      ...common,
      nodes: expandDepthwiseTaps(g, nodes),
      inputs: [...read.filter((v) => v !== D_OUTPUT && v !== input.name).map(io), ...(read.includes(input.name) ? [input] : []), { name: D_OUTPUT, dims: output.dims }],
      outputs: gradOutputs,
    }),
    params: params.map((p) => ({ ...p, grad: grads.get(p.name) ?? null })),
    input: input.name,
    output: output.name,
    dOutput: D_OUTPUT,
    inputShape: fixedItemShape(input),
    outputShape: fixedItemShape(output),
  };
}

/** Ops that only move numbers: recomputed in the backward model rather than returned by the forward one. */
const RECOMPUTED = new Set(['Slice', 'Pad', 'Reshape', 'Transpose', 'Identity', 'Flatten']);

/**
 * The backward model's nodes (the backward pass, preceded by the forward nodes it recomputes: layout ops and
 * whatever depends on weights alone, like the folded conv weights) and the forward values it needs from the
 * forward model. Returning values costs a copy (and fresh memory) per step.
 */
function backwardNodesAndSaved(forwardNodes: GraphNode[], backwardNodes: GraphNode[], isWeight: (v: string) => boolean, isFed: (v: string) => boolean) {
  const producer = new Map(forwardNodes.flatMap((n) => n.outputs.map((o): [string, GraphNode] => [o, n])));
  const weightOnly = new Set<string>();
  for (const n of forwardNodes) if (n.inputs.every((i) => !i || isWeight(i) || weightOnly.has(i))) n.outputs.forEach((o) => weightOnly.add(o));
  const recomputed = new Set<GraphNode>();
  const saved = new Set<string>();
  const need = (v: string) => {
    const p = producer.get(v);
    if (!v || isWeight(v) || isFed(v) || !p || recomputed.has(p)) return;
    if (!RECOMPUTED.has(p.opType) && !weightOnly.has(v)) return void saved.add(v);
    recomputed.add(p);
    p.inputs.forEach(need);
  };
  backwardNodes.forEach((n) => n.inputs.forEach(need));
  return { nodes: [...forwardNodes.filter((n) => recomputed.has(n)), ...backwardNodes], saved };
}

// Conv2D, DepthwiseConv2D (a grouped Conv) and SeparableConv2D, plus the passes that fold a following
// BatchNormalization into the Conv's weights and a preceding zero Pad into the Conv's pads.
import { applyActivation } from './activations.ts';
import { combine, derive, relaid, variable, type DerivedData } from './derivation.ts';
import { ints, refuse, requireChannelsLast, type LayerExport, type LayerExporter, type LayerWeight } from './layer-export.ts';
import { transpose4d } from './layout.ts';
import type { Attr, GraphNode, OnnxGraph, Value } from './onnx-graph.ts';

/**
 * ONNX pads [top, left, bottom, right] of TF's padding for one input size; TF's 'same' puts the odd
 * pixel at the end. Null when the input size is unknown (auto_pad SAME_UPPER is TF's rule too).
 */
export function tfPads(
  inHW: (number | null)[],
  kernel: number[],
  strides: number[],
  dilations: number[],
  padding: unknown,
): number[] | null {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding !== 'same') return null;
  const begin: number[] = [];
  const end: number[] = [];
  for (let k = 0; k < 2; k++) {
    const size = inHW[k];
    if (size === null) return null;
    const effective = (kernel[k] - 1) * dilations[k] + 1;
    const total = Math.max((Math.ceil(size / strides[k]) - 1) * strides[k] + effective - size, 0);
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
  }
  return [...begin, ...end];
}

export function padAttrs(l: LayerExport, pads: number[] | null): Record<string, Attr> {
  if (pads) return { pads: { ints: pads } };
  if (l.config.padding !== 'same') refuse(l, `padding ${JSON.stringify(l.config.padding)}`);
  return { auto_pad: { s: 'SAME_UPPER' } };
}

/** Emits one Conv over an NCHW value with an ONNX-layout weight [out, in/group, kh, kw]. */
function conv(l: LayerExport, x: Value, w: DerivedData, bias: DerivedData | null, opts: { kernel: number[]; strides: number[]; dilations: number[]; group: number; pads: number[] | null }, base: string): string {
  const g = l.graph;
  const inputs = [x.name, g.addFloat(`${base}/W`, w.dims, w.data, w.derivation)];
  if (bias) inputs.push(g.addFloat(`${base}/B`, bias.dims, bias.data, bias.derivation));
  return g.add(
    'Conv',
    inputs,
    {
      kernel_shape: { ints: opts.kernel },
      strides: { ints: opts.strides },
      dilations: { ints: opts.dilations },
      group: { i: opts.group },
      ...padAttrs(l, opts.pads),
    },
    base,
  );
}

/** A Keras 4-D kernel in ONNX layout; training graphs transpose the variable itself. */
function permuted(k: LayerWeight, perm: number[], dims: number[]): DerivedData {
  return { data: transpose4d(k.data, k.shape, perm), dims, derivation: relaid(variable(k.variable), k.shape, perm) };
}

/** Keras kernel [kh, kw, in, out] -> ONNX weight [out, in, kh, kw]. */
function convWeight(k: LayerWeight): DerivedData {
  const [kh, kw, cin, cout] = k.shape;
  return permuted(k, [3, 2, 0, 1], [cout, cin, kh, kw]);
}

/** Depthwise kernel [kh, kw, in, mult] -> grouped weight [in*mult, 1, kh, kw]; TF's output channel c*mult+m is ONNX's group c, member m. */
function depthwiseWeight(k: LayerWeight): DerivedData {
  const [kh, kw, cin, mult] = k.shape;
  return permuted(k, [2, 3, 0, 1], [cin * mult, 1, kh, kw]);
}

function biasOf(l: LayerExport, k: number): DerivedData | null {
  const b = l.weights[k];
  return l.config.useBias === false ? null : { data: b.data, dims: b.shape, derivation: variable(b.variable) };
}

function geometry(l: LayerExport) {
  requireChannelsLast(l);
  const x = l.inputs[0];
  if (x.shape.length !== 4) refuse(l, `rank-${x.shape.length} input`);
  const kernel = ints(l, 'kernelSize');
  const strides = ints(l, 'strides', [1, 1]);
  const dilations = ints(l, 'dilationRate', [1, 1]);
  return { x, kernel, strides, dilations, pads: tfPads([x.shape[1], x.shape[2]], kernel, strides, dilations, l.config.padding) };
}

function finish(l: LayerExport, name: string): Value[] {
  const shape = l.outputShapes[0];
  return [{ name: applyActivation(l, { name, shape }, l.config.activation), shape }];
}

export const convExporters: Record<string, LayerExporter> = {
  Conv2D: (l) => {
    const geo = geometry(l);
    return finish(l, conv(l, geo.x, convWeight(l.weights[0]), biasOf(l, 1), { ...geo, group: 1 }, l.name));
  },
  DepthwiseConv2D: (l) => {
    const geo = geometry(l);
    return finish(l, conv(l, geo.x, depthwiseWeight(l.weights[0]), biasOf(l, 1), { ...geo, group: l.weights[0].shape[2] }, l.name));
  },
  SeparableConv2D: (l) => {
    const geo = geometry(l);
    const depthwise = conv(l, geo.x, depthwiseWeight(l.weights[0]), null, { ...geo, group: l.weights[0].shape[2] }, `${l.name}/depthwise`);
    const pointwise = { kernel: [1, 1], strides: [1, 1], dilations: [1, 1], group: 1, pads: [0, 0, 0, 0] };
    return finish(l, conv(l, { name: depthwise, shape: l.outputShapes[0] }, convWeight(l.weights[1]), biasOf(l, 2), pointwise, l.name));
  },
};

function onlyConsumer(g: OnnxGraph, value: string, keep: Set<string>): GraphNode | null {
  if (keep.has(value)) return null;
  const users = g.consumersOf(value);
  return users.length === 1 ? users[0] : null;
}

function floatWeight(g: OnnxGraph, name: string): DerivedData | null {
  const w = g.initializers.get(name);
  return w && w.data instanceof Float32Array ? { data: w.data, dims: w.dims, derivation: w.derivation } : null;
}

/**
 * W' = W·γ·r and b' = (b − μ)·γ·r + β with r = 1/√(σ² + ε), per output channel: numbers for an inference
 * export, and the same as ONNX nodes over the variables for a training graph.
 */
function foldedConv(w: DerivedData, bias: DerivedData, [gamma, beta, mean, variance]: DerivedData[], eps: number) {
  const cout = gamma.data.length;
  const per = w.data.length / cout;
  const perOut = [cout, ...w.dims.slice(1).map(() => 1)];
  const emitScale = (g: OnnxGraph, ga: string, va: string) =>
    g.add('Mul', [ga, g.add('Reciprocal', [g.add('Sqrt', [g.add('Add', [va, g.addFloat('eps', [], Float32Array.of(eps))], {}, 'bn')], {}, 'bn')], {}, 'bn')], {}, 'bn');
  const emitFold = (perOut: number[]) => (g: OnnxGraph, [w, ga, va]: string[]) =>
    g.add('Mul', [w, g.add('Reshape', [emitScale(g, ga, va), g.addInt64('per_out', perOut)], {}, 'bn')], {}, 'bn');
  const s = variance.data.map((v, o) => gamma.data[o] / Math.sqrt(v + eps));
  // a kernel fed in another layout is scaled in that layout (on its output-channel axis), then relaid: the
  // relayouts of the training graph then compose into one (often a mere Reshape)
  const layout = w.derivation?.layout;
  const weight: DerivedData = {
    data: w.data.map((x, k) => x * s[Math.floor(k / per)]),
    dims: w.dims,
    derivation: layout
      ? relaid(derive([{ ...w, derivation: layout.of }, gamma, variance], emitFold(layout.shape.map((_, k) => (k === layout.perm[0] ? cout : 1))))!, layout.shape, layout.perm)
      : derive([w, gamma, variance], emitFold(perOut)),
  };
  const b = combine(
    [bias, gamma, beta, mean, variance],
    ([b, , be, mu]) => b.map((x, o) => (x - mu[o]) * s[o] + be[o]),
    (g, [b, ga, be, mu, va]) => g.add('Add', [g.add('Mul', [g.add('Sub', [b, mu], {}, 'bn'), emitScale(g, ga, va)], {}, 'bn'), be], {}, 'bn'),
    [cout],
  );
  return { weight, bias: b };
}

/**
 * Folds every inference BatchNormalization whose input comes only from a Conv into that Conv (see
 * foldedConv). `keep` = graph outputs.
 */
export function foldBatchNormIntoConv(g: OnnxGraph, keep: Set<string>): void {
  for (const bn of g.nodes.filter((n) => n.opType === 'BatchNormalization')) {
    const conv = g.producerOf(bn.inputs[0]);
    if (!conv || conv.opType !== 'Conv' || onlyConsumer(g, bn.inputs[0], keep) !== bn) continue;
    const w = floatWeight(g, conv.inputs[1]);
    const stats = bn.inputs.slice(1).map((n) => floatWeight(g, n));
    if (!w || !stats.every((t): t is DerivedData => t !== null)) continue;
    const cout = w.dims[0];
    const bias = conv.inputs[2] ? floatWeight(g, conv.inputs[2]) : { data: new Float32Array(cout), dims: [cout] };
    if (!bias) continue;
    const eps = 'f' in (bn.attrs.epsilon ?? {}) ? (bn.attrs.epsilon as { f: number }).f : 1e-5;
    const folded = foldedConv(w, bias, stats, eps);
    conv.inputs = [
      conv.inputs[0],
      g.addFloat(`${conv.name}/W_bn`, w.dims, folded.weight.data, folded.weight.derivation),
      g.addFloat(`${conv.name}/B_bn`, [cout], folded.bias.data, folded.bias.derivation),
    ];
    conv.outputs = [bn.outputs[0]];
    g.removeNode(bn);
  }
}

/** Folds a constant-zero spatial Pad that feeds only an explicitly padded Conv into the Conv's pads. */
export function foldPadIntoConv(g: OnnxGraph, keep: Set<string>): void {
  for (const pad of g.nodes.filter((n) => n.opType === 'Pad')) {
    const conv = onlyConsumer(g, pad.outputs[0], keep);
    if (!conv || conv.opType !== 'Conv' || !('ints' in (conv.attrs.pads ?? {}))) continue;
    const p = g.initializers.get(pad.inputs[1])?.data;
    if (!(p instanceof BigInt64Array) || pad.inputs.length > 2 || (pad.attrs.mode && 's' in pad.attrs.mode && pad.attrs.mode.s !== 'constant')) continue;
    const [n0, c0, t, l, n1, c1, b, r] = Array.from(p, Number);
    if (n0 || c0 || n1 || c1) continue;
    const convPads = (conv.attrs.pads as { ints: number[] }).ints;
    conv.attrs.pads = { ints: [convPads[0] + t, convPads[1] + l, convPads[2] + b, convPads[3] + r] };
    conv.inputs[0] = pad.inputs[0];
    g.removeNode(pad);
  }
}

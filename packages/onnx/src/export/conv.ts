// Conv2D, DepthwiseConv2D (a grouped Conv) and SeparableConv2D, plus the passes that fold a following
// BatchNormalization into the Conv's weights and a preceding zero Pad into the Conv's pads.
import { applyActivation } from './activations.ts';
import { ints, refuse, requireChannelsLast, type LayerExport, type LayerExporter } from './layer-export.ts';
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
function conv(l: LayerExport, x: Value, w: Float32Array, wDims: number[], bias: Float32Array | null, opts: { kernel: number[]; strides: number[]; dilations: number[]; group: number; pads: number[] | null }, base: string): string {
  const g = l.graph;
  const inputs = [x.name, g.addFloat(`${base}/W`, wDims, w)];
  if (bias) inputs.push(g.addFloat(`${base}/B`, [wDims[0]], bias));
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

/** A 4-D row-major array with its axes permuted: result axis k is source axis perm[k]. */
function transpose4d(data: Float32Array, shape: number[], perm: number[]): Float32Array {
  const out = new Float32Array(data.length);
  const strides = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1];
  const [d0, d1, d2, d3] = perm.map((p) => shape[p]);
  const [s0, s1, s2, s3] = perm.map((p) => strides[p]);
  let k = 0;
  for (let a = 0; a < d0; a++)
    for (let b = 0; b < d1; b++)
      for (let c = 0; c < d2; c++) for (let d = 0; d < d3; d++) out[k++] = data[a * s0 + b * s1 + c * s2 + d * s3];
  return out;
}

/** Keras kernel [kh, kw, in, out] -> ONNX weight [out, in, kh, kw]. */
function convWeight(k: { shape: number[]; data: Float32Array }): { data: Float32Array; dims: number[] } {
  const [kh, kw, cin, cout] = k.shape;
  return { data: transpose4d(k.data, k.shape, [3, 2, 0, 1]), dims: [cout, cin, kh, kw] };
}

/** Depthwise kernel [kh, kw, in, mult] -> grouped weight [in*mult, 1, kh, kw]; TF's output channel c*mult+m is ONNX's group c, member m. */
function depthwiseWeight(k: { shape: number[]; data: Float32Array }): { data: Float32Array; dims: number[] } {
  const [kh, kw, cin, mult] = k.shape;
  return { data: transpose4d(k.data, k.shape, [2, 3, 0, 1]), dims: [cin * mult, 1, kh, kw] };
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
    const w = convWeight(l.weights[0]);
    const bias = l.config.useBias === false ? null : l.weights[1].data;
    return finish(l, conv(l, geo.x, w.data, w.dims, bias, { ...geo, group: 1 }, l.name));
  },
  DepthwiseConv2D: (l) => {
    const geo = geometry(l);
    const w = depthwiseWeight(l.weights[0]);
    const bias = l.config.useBias === false ? null : l.weights[1].data;
    return finish(l, conv(l, geo.x, w.data, w.dims, bias, { ...geo, group: l.weights[0].shape[2] }, l.name));
  },
  SeparableConv2D: (l) => {
    const geo = geometry(l);
    const dw = depthwiseWeight(l.weights[0]);
    const depthwise = conv(l, geo.x, dw.data, dw.dims, null, { ...geo, group: l.weights[0].shape[2] }, `${l.name}/depthwise`);
    const pw = convWeight(l.weights[1]);
    const bias = l.config.useBias === false ? null : l.weights[2].data;
    const pointwise = { kernel: [1, 1], strides: [1, 1], dilations: [1, 1], group: 1, pads: [0, 0, 0, 0] };
    return finish(l, conv(l, { name: depthwise, shape: l.outputShapes[0] }, pw.data, pw.dims, bias, pointwise, l.name));
  },
};

function onlyConsumer(g: OnnxGraph, value: string, keep: Set<string>): GraphNode | null {
  if (keep.has(value)) return null;
  const users = g.consumersOf(value);
  return users.length === 1 ? users[0] : null;
}

function weightOf(g: OnnxGraph, conv: GraphNode) {
  const w = g.initializers.get(conv.inputs[1]);
  return w && w.data instanceof Float32Array ? { dims: w.dims, data: w.data } : null;
}

/**
 * Folds every inference BatchNormalization whose input comes only from a Conv into that Conv:
 * W' = W * s, b' = (b - mean) * s + beta with s = gamma / sqrt(var + eps). `keep` = graph outputs.
 */
export function foldBatchNormIntoConv(g: OnnxGraph, keep: Set<string>): void {
  for (const bn of g.nodes.filter((n) => n.opType === 'BatchNormalization')) {
    const conv = g.producerOf(bn.inputs[0]);
    if (!conv || conv.opType !== 'Conv' || onlyConsumer(g, bn.inputs[0], keep) !== bn) continue;
    const w = weightOf(g, conv);
    const [gamma, beta, mean, variance] = bn.inputs.slice(1).map((n) => g.initializers.get(n)?.data);
    if (!w || ![gamma, beta, mean, variance].every((t) => t instanceof Float32Array)) continue;
    const eps = 'f' in (bn.attrs.epsilon ?? {}) ? (bn.attrs.epsilon as { f: number }).f : 1e-5;
    const cout = w.dims[0];
    const perOut = w.data.length / cout;
    const oldBias = conv.inputs[2] ? (g.initializers.get(conv.inputs[2])?.data as Float32Array) : new Float32Array(cout);
    const folded = new Float32Array(w.data.length);
    const bias = new Float32Array(cout);
    for (let o = 0; o < cout; o++) {
      const s = (gamma as Float32Array)[o] / Math.sqrt((variance as Float32Array)[o] + eps);
      for (let k = 0; k < perOut; k++) folded[o * perOut + k] = w.data[o * perOut + k] * s;
      bias[o] = (oldBias[o] - (mean as Float32Array)[o]) * s + (beta as Float32Array)[o];
    }
    conv.inputs = [conv.inputs[0], g.addFloat(`${conv.name}/W_bn`, w.dims, folded), g.addFloat(`${conv.name}/B_bn`, [cout], bias)];
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

// Reverse-mode rules for the ONNX ops the exporter emits for MobileNetV2-, ResNet-, VGG- and InceptionV3-style
// networks (NCHW inside): each op's static output shape and the ops that compute its inputs' gradients from its
// output's. An op without a rule (Max, Mean, …) is refused by name and the engine trains on TF.js.
import type { GraphNode, OnnxGraph } from '../export/onnx-graph.ts';
import { NCHW_TO_NHWC } from '../export/layout.ts';
import { DataType } from '../onnx-proto.ts';
import { DEPTHWISE_TAPS, depthwiseTapsRule } from './depthwise-taps.ts';
import { maxPoolRule } from './max-pool-gradient.ts';
import { averagePoolRule, concatRule } from './concat-pool-gradients.ts';

/** A static shape; null stands for the batch dimension. */
export type Dims = (number | null)[];

export interface RuleContext {
  g: OnnxGraph;
  node: GraphNode;
  /** static shape of any value of the graph */
  shape(value: string): Dims;
  /** the gradient of the node's output */
  dy: string;
  /** which of the node's inputs need a gradient */
  needs: boolean[];
}

export interface GradientRule {
  shape(node: GraphNode, inputs: Dims[], g: OnnxGraph): Dims;
  /** per input, the value holding its gradient (null where not needed) */
  grad(c: RuleContext): (string | null)[];
}

/** The graph has an op (or an op setting) with no gradient rule here; callers train on TF.js. */
export class NoGradientRuleError extends Error {
  readonly code = 'no_gradient_rule';
  constructor(
    readonly nodeName: string,
    readonly opType: string,
    reason: string,
  ) {
    // node names start with the Keras layer's name (see OnnxGraph.add)
    super(`no ONNX gradient for ${opType} in layer "${nodeName.split('/')[0]}": ${reason}`);
    this.name = 'NoGradientRuleError';
  }
}

function refuse(node: GraphNode, reason: string): never {
  throw new NoGradientRuleError(node.name, node.opType, reason);
}

function intsAttr(node: GraphNode, name: string, fallback: number[]): number[] {
  const a = node.attrs[name];
  if (a === undefined) return fallback;
  if (!('ints' in a)) return refuse(node, `attribute ${name} ${JSON.stringify(a)}`);
  return a.ints;
}

function intAttr(node: GraphNode, name: string, fallback: number): number {
  const a = node.attrs[name];
  if (a === undefined) return fallback;
  return 'i' in a ? a.i : refuse(node, `attribute ${name} ${JSON.stringify(a)}`);
}

function staticDims(node: GraphNode, d: Dims, from = 1): number[] {
  const rest = d.slice(from);
  if (!rest.every((x): x is number => x !== null)) refuse(node, `unknown size in ${JSON.stringify(d)}`);
  return rest;
}

const same: GradientRule['shape'] = (_node, [x]) => x;
const passThrough: GradientRule['grad'] = (c) => [c.dy];

function geometry(node: GraphNode, x: Dims, w: Dims) {
  if (node.attrs.auto_pad) refuse(node, 'auto_pad (an input of unknown size)');
  const [h, wd] = staticDims(node, x, 2);
  const [out, inPerGroup, kh, kw] = staticDims(node, w, 0);
  const strides = intsAttr(node, 'strides', [1, 1]);
  const dilations = intsAttr(node, 'dilations', [1, 1]);
  const pads = intsAttr(node, 'pads', [0, 0, 0, 0]);
  const group = intAttr(node, 'group', 1);
  const span = [(kh - 1) * dilations[0] + 1, (kw - 1) * dilations[1] + 1];
  const outHW = [0, 1].map((k) => Math.floor(([h, wd][k] + pads[k] + pads[k + 2] - span[k]) / strides[k]) + 1);
  return { h, w: wd, out, inPerGroup, kh, kw, strides, dilations, pads, group, span, outHW };
}

/** dX of a Conv: the transposed convolution (a plain Conv with Wᵀ for a 1×1, stride-1, unpadded one). */
function convInputGrad(c: RuleContext, geo: ReturnType<typeof geometry>): string {
  const { g, node, dy } = c;
  const base = `${node.name}/dX`;
  const [, w] = node.inputs;
  const pointwise = geo.kh === 1 && geo.kw === 1 && geo.group === 1 && geo.strides.every((s) => s === 1) && geo.pads.every((p) => p === 0);
  if (pointwise) {
    const wt = g.add('Transpose', [w], { perm: { ints: [1, 0, 2, 3] } }, `${base}/Wt`);
    return g.add('Conv', [dy, wt], { kernel_shape: { ints: [1, 1] } }, base);
  }
  // ConvTranspose's weight is [in = O, out/group = C/group, kh, kw]: the Conv's own weight
  const outputPadding = [0, 1].map((k) => [geo.h, geo.w][k] - ((geo.outHW[k] - 1) * geo.strides[k] + geo.span[k] - geo.pads[k] - geo.pads[k + 2]));
  return g.add(
    'ConvTranspose',
    [dy, w],
    {
      kernel_shape: { ints: [geo.kh, geo.kw] },
      strides: { ints: geo.strides },
      dilations: { ints: geo.dilations },
      pads: { ints: geo.pads },
      group: { i: geo.group },
      output_padding: { ints: outputPadding },
    },
    base,
  );
}

/**
 * dW of a group-1 Conv. 1×1 stride 1: dYᵀ·X over (batch × pixels) as one Gemm. Otherwise the batch-as-channels
 * trick: correlate X (channels as batch) with dY (its batch as input channels), stride and dilation swapped.
 */
function convWeightGrad(c: RuleContext, geo: ReturnType<typeof geometry>): string {
  const { g, node, dy } = c;
  const base = `${node.name}/dW`;
  const x = node.inputs[0];
  const cin = geo.inPerGroup;
  if (geo.kh === 1 && geo.kw === 1 && geo.strides.every((s) => s === 1) && geo.pads.every((p) => p === 0)) {
    const rows = (v: string, width: number) =>
      g.add('Reshape', [g.add('Transpose', [v], { perm: { ints: NCHW_TO_NHWC } }, base), g.addInt64(`${base}/shape`, [-1, width])], {}, base);
    const dw = g.add('Gemm', [rows(dy, geo.out), rows(x, cin)], { transA: { i: 1 } }, base);
    return g.add('Reshape', [dw, g.addInt64(`${base}/shape`, [geo.out, cin, 1, 1])], {}, base);
  }
  const swap = { perm: { ints: [1, 0, 2, 3] } };
  const corr = g.add(
    'Conv',
    [g.add('Transpose', [x], swap, `${base}/x`), g.add('Transpose', [dy], swap, `${base}/dy`)],
    { kernel_shape: { ints: geo.outHW }, strides: { ints: geo.dilations }, dilations: { ints: geo.strides }, pads: { ints: geo.pads } },
    base,
  );
  // [C, O, ≥kh, ≥kw]: the rows beyond the kernel come from input pixels no tap reached
  const cut = g.add('Slice', [corr, g.addInt64(`${base}/starts`, [0, 0]), g.addInt64(`${base}/ends`, [geo.kh, geo.kw]), g.addInt64(`${base}/axes`, [2, 3])], {}, base);
  return g.add('Transpose', [cut], swap, base);
}

/** dW of a depthwise Conv (multiplier 1): per tap, Σ over batch and pixels of dY · the input window it saw. */
function depthwiseWeightGrad(c: RuleContext, geo: ReturnType<typeof geometry>): string {
  const { g, node, dy } = c;
  const base = `${node.name}/dW`;
  const [pt, pl, pb, pr] = geo.pads;
  const x = pt || pl || pb || pr ? g.add('Pad', [node.inputs[0], g.addInt64(`${base}/pads`, [0, 0, pt, pl, 0, 0, pb, pr])], {}, base) : node.inputs[0];
  const axes = g.addInt64(`${base}/axes`, [2, 3]);
  const steps = g.addInt64(`${base}/steps`, geo.strides);
  const sumAxes = g.addInt64(`${base}/sum_axes`, [0, 2, 3]);
  const taps: string[] = [];
  for (let a = 0; a < geo.kh; a++) {
    for (let b = 0; b < geo.kw; b++) {
      const start = [a * geo.dilations[0], b * geo.dilations[1]];
      const end = [0, 1].map((k) => start[k] + (geo.outHW[k] - 1) * geo.strides[k] + 1);
      const window = g.add('Slice', [x, g.addInt64(`${base}/starts`, start), g.addInt64(`${base}/ends`, end), axes, steps], {}, base);
      taps.push(g.add('ReduceSum', [g.add('Mul', [window, dy], {}, base), sumAxes], { keepdims: { i: 1 } }, base));
    }
  }
  // taps are [1, C, 1, 1] each, in (a, b) order: concatenated on the last axis they read as [C, 1, kh, kw]
  const all = g.add('Concat', taps, { axis: { i: 3 } }, base);
  return g.add('Reshape', [all, g.addInt64(`${base}/shape`, [geo.out, 1, geo.kh, geo.kw])], {}, base);
}

const conv: GradientRule = {
  shape(node, [x, w]) {
    const geo = geometry(node, x, w);
    return [x[0], geo.out, ...geo.outHW];
  },
  grad(c) {
    const { node, needs, shape } = c;
    const x = shape(node.inputs[0]);
    const geo = geometry(node, x, shape(node.inputs[1]));
    const channels = x[1];
    const depthwise = geo.group > 1 && geo.group === channels && geo.inPerGroup === 1 && geo.out === channels;
    if (geo.group !== 1 && !depthwise) refuse(node, `group ${geo.group} of ${channels} channels into ${geo.out} (only plain and depthwise multiplier-1 convolutions)`);
    return [
      needs[0] ? convInputGrad(c, geo) : null,
      needs[1] ? (depthwise ? depthwiseWeightGrad(c, geo) : convWeightGrad(c, geo)) : null,
      needs[2] ? c.g.add('ReduceSum', [c.dy, c.g.addInt64(`${node.name}/dB/axes`, [0, 2, 3])], { keepdims: { i: 0 } }, `${node.name}/dB`) : null,
    ];
  },
};

/**
 * Gradient flows where the output lies strictly inside the bounds (the output itself is kept, not the input):
 * dY times the mask as 0/1 floats, which ONNX Runtime runs ~4× faster than a Where (7 % of a 224 px backward pass).
 */
function masked(c: RuleContext, conditions: string[]): string {
  const { g, node } = c;
  const base = `${node.name}/dX`;
  const mask = conditions.length === 1 ? conditions[0] : g.add('And', conditions, {}, base);
  return g.add('Mul', [c.dy, g.add('Cast', [mask], { to: { i: DataType.FLOAT } }, base)], {}, base);
}

const clip: GradientRule = {
  shape: same,
  grad(c) {
    const { g, node } = c;
    const [, lo, hi] = node.inputs;
    if (!lo || !hi) refuse(node, 'Clip without both bounds');
    const y = node.outputs[0];
    return [masked(c, [g.add('Greater', [y, lo], {}, node.name), g.add('Less', [y, hi], {}, node.name)]), null, null];
  },
};

const relu: GradientRule = {
  shape: same,
  grad: (c) => [masked(c, [c.g.add('Greater', [c.node.outputs[0], c.g.addFloat(`${c.node.name}/zero`, [], new Float32Array(1))], {}, c.node.name)])],
};


const transpose: GradientRule = {
  shape: (node, [x]) => intsAttr(node, 'perm', []).map((p) => x[p]),
  grad(c) {
    const perm = intsAttr(c.node, 'perm', []);
    return [c.g.add('Transpose', [c.dy], { perm: { ints: perm.map((_, k) => perm.indexOf(k)) } }, `${c.node.name}/dX`)];
  },
};

/** Reshape-like ops: the gradient takes the input's shape back (-1 for the batch). */
function unshape(c: RuleContext): string {
  const x = c.shape(c.node.inputs[0]);
  if (x.filter((d) => d === null).length > 1) refuse(c.node, `reshaping ${JSON.stringify(x)}`);
  return c.g.add('Reshape', [c.dy, c.g.addInt64(`${c.node.name}/dX/shape`, x.map((d) => d ?? -1))], {}, `${c.node.name}/dX`);
}

const flatten: GradientRule = {
  shape(node, [x]) {
    if (intAttr(node, 'axis', 1) !== 1) refuse(node, 'axis other than 1');
    return [x[0], staticDims(node, x).reduce((a, b) => a * b, 1)];
  },
  grad: (c) => [unshape(c)],
};

const reshape: GradientRule = {
  shape(node, [x], g) {
    const target = g.initializers.get(node.inputs[1])?.data;
    if (!(target instanceof BigInt64Array)) return refuse(node, 'a shape that is not a constant');
    const dims: Dims = Array.from(target, (d, k) => (d === 0n ? x[k] : Number(d)));
    const known = x.every((d) => d !== null) ? x.reduce<number>((a, d) => a * d!, 1) : null;
    const rest = dims.reduce<number>((a, d) => (d === null || d === -1 ? a : a * d), 1);
    return dims.map((d) => (d === -1 ? (known === null ? null : known / rest) : d));
  },
  grad: (c) => [unshape(c), null],
};

function broadcastShape(node: GraphNode, a: Dims, b: Dims): Dims {
  const rank = Math.max(a.length, b.length);
  const at = (s: Dims, k: number) => (k < rank - s.length ? 1 : s[k - (rank - s.length)]);
  return Array.from({ length: rank }, (_, k) => {
    const [p, q] = [at(a, k), at(b, k)];
    if (p === q || q === 1) return p;
    if (p === 1) return q;
    return refuse(node, `broadcast ${JSON.stringify(a)} with ${JSON.stringify(b)}`);
  });
}

/** The gradient of a broadcast operand: summed over the axes it was broadcast along, in its own shape. */
function reduceTo(c: RuleContext, grad: string, operand: string): string {
  const { g, node } = c;
  const out = c.shape(node.outputs[0]);
  const own = c.shape(operand);
  const lead = out.length - own.length;
  const axes = out.flatMap((d, k) => (k < lead || (own[k - lead] === 1 && d !== 1) ? [k] : []));
  if (!axes.length) return grad;
  const base = `${node.name}/d${operand}`;
  const summed = g.add('ReduceSum', [grad, g.addInt64(`${base}/axes`, axes)], { keepdims: { i: 1 } }, base);
  return g.add('Reshape', [summed, g.addInt64(`${base}/shape`, staticDims(node, own, 0))], {}, base);
}

const mul: GradientRule = {
  shape: (node, [a, b]) => broadcastShape(node, a, b),
  grad(c) {
    const [a, b] = c.node.inputs;
    const times = (other: string) => c.g.add('Mul', [c.dy, other], {}, `${c.node.name}/grad`);
    return [c.needs[0] ? reduceTo(c, times(b), a) : null, c.needs[1] ? reduceTo(c, times(a), b) : null];
  },
};

const add: GradientRule = {
  shape: (node, [a, b]) => broadcastShape(node, a, b),
  grad: (c) => c.node.inputs.map((v, k) => (c.needs[k] ? reduceTo(c, c.dy, v) : null)),
};

const sub: GradientRule = {
  shape: (node, [a, b]) => broadcastShape(node, a, b),
  grad: (c) => [
    c.needs[0] ? reduceTo(c, c.dy, c.node.inputs[0]) : null,
    c.needs[1] ? reduceTo(c, c.g.add('Neg', [c.dy], {}, `${c.node.name}/grad`), c.node.inputs[1]) : null,
  ],
};

/** Ops that appear on constants only (BatchNorm statistics): shapes, no gradient. */
const constantOnly: GradientRule = {
  shape: same,
  grad: (c) => refuse(c.node, 'a gradient through it'),
};

const sum: GradientRule = {
  shape(node, inputs) {
    if (inputs.some((s) => JSON.stringify(s) !== JSON.stringify(inputs[0]))) refuse(node, 'inputs of different shapes');
    return inputs[0];
  },
  grad: (c) => c.node.inputs.map(() => c.dy),
};

/** Y = A·op(B) + C (alpha = beta = 1, A not transposed). */
const gemm: GradientRule = {
  shape(node, [a, b]) {
    if (intAttr(node, 'transA', 0) || node.attrs.alpha || node.attrs.beta) refuse(node, 'transA, alpha or beta');
    return [a[0], intAttr(node, 'transB', 0) ? b[0] : b[1]];
  },
  grad(c) {
    const { g, node, dy, needs } = c;
    const [a, b, bias] = node.inputs;
    const transB = intAttr(node, 'transB', 0) === 1;
    const base = `${node.name}/grad`;
    const transposed = (v: string) => g.add('Transpose', [v], { perm: { ints: [1, 0] } }, base);
    if (bias && c.shape(bias).length !== 1) refuse(node, 'a bias that is not one row');
    return [
      needs[0] ? g.add('Gemm', [dy, b], transB ? {} : { transB: { i: 1 } }, base) : null,
      // dB = dYᵀ·A (or Aᵀ·dY) with the transpose made explicit: a transposed-A Gemm ran ~2× slower here
      needs[1] ? (transB ? g.add('Gemm', [transposed(dy), a], {}, base) : g.add('Gemm', [transposed(a), dy], {}, base)) : null,
      needs[2] ? g.add('ReduceSum', [dy, g.addInt64(`${base}/axes`, [0])], { keepdims: { i: 0 } }, base) : null,
    ];
  },
};

function sliceSpec(node: GraphNode, g: OnnxGraph, rank: number) {
  const constant = (k: number) => {
    const t = node.inputs[k] ? g.initializers.get(node.inputs[k])?.data : undefined;
    if (node.inputs[k] && !(t instanceof BigInt64Array)) refuse(node, 'starts/ends/axes/steps that are not constants');
    return t ? Array.from(t as BigInt64Array, Number) : null;
  };
  const [starts, ends] = [constant(1)!, constant(2)!];
  const axes = (constant(3) ?? starts.map((_, k) => k)).map((a) => (a < 0 ? a + rank : a));
  const steps = constant(4) ?? starts.map(() => 1);
  if (steps.some((s) => s !== 1) || starts.some((s) => s < 0) || ends.some((e) => e < 0)) refuse(node, 'strided or negative slices');
  return { starts, ends, axes };
}

const slice: GradientRule = {
  shape(node, [x], g) {
    const { starts, ends, axes } = sliceSpec(node, g, x.length);
    const out = [...x];
    axes.forEach((a, k) => {
      const d = x[a] ?? refuse(node, 'slicing the batch');
      out[a] = Math.max(0, Math.min(ends[k], d) - Math.min(starts[k], d));
    });
    return out;
  },
  grad(c) {
    const { g, node } = c;
    const x = c.shape(node.inputs[0]);
    const { starts, ends, axes } = sliceSpec(node, g, x.length);
    const pads = new Array<number>(2 * x.length).fill(0);
    axes.forEach((a, k) => {
      pads[a] = starts[k];
      pads[x.length + a] = (x[a] as number) - Math.min(ends[k], x[a] as number);
    });
    const base = `${node.name}/dX`;
    return [g.add('Pad', [c.dy, g.addInt64(`${base}/pads`, pads)], {}, base), ...node.inputs.slice(1).map(() => null)];
  },
};

/** The gradient of a mean over `axes` of x: dY / (number averaged), spread back over those axes. */
function spreadMean(c: RuleContext, x: Dims, axes: number[]): string {
  const { g, node } = c;
  const sizes = axes.map((a) => x[a] ?? refuse(node, 'averaging over the batch'));
  const base = `${node.name}/dX`;
  const scaled = g.add('Mul', [c.dy, g.addFloat(`${base}/scale`, [], Float32Array.of(1 / sizes.reduce((p, q) => p * q, 1)))], {}, base);
  return g.add('Expand', [scaled, g.addInt64(`${base}/shape`, x.map((d, k) => (axes.includes(k) ? (d as number) : 1)))], {}, base);
}

const reduceMean: GradientRule = {
  shape(node, [x]) {
    if (intAttr(node, 'keepdims', 1) !== 1) refuse(node, 'keepdims 0');
    const axes = intsAttr(node, 'axes', []).map((a) => (a < 0 ? a + x.length : a));
    return x.map((d, k) => (axes.includes(k) ? 1 : d));
  },
  grad(c) {
    const x = c.shape(c.node.inputs[0]);
    return [spreadMean(c, x, intsAttr(c.node, 'axes', []).map((a) => (a < 0 ? a + x.length : a)))];
  },
};

const globalAveragePool: GradientRule = {
  shape: (_node, [x]) => [x[0], x[1], 1, 1],
  grad: (c) => [spreadMean(c, c.shape(c.node.inputs[0]), [2, 3])],
};

const pad: GradientRule = {
  shape(node, [x], g) {
    const p = padsOf(node, g);
    return x.map((d, k) => (d === null ? (p[k] || p[k + 4] ? refuse(node, 'padding the batch') : null) : d + p[k] + p[k + 4]));
  },
  grad(c) {
    const { g, node } = c;
    const p = padsOf(node, g);
    const x = staticDims(node, c.shape(node.inputs[0]));
    const base = `${node.name}/dX`;
    const slice = [g.addInt64(`${base}/starts`, p.slice(1, 4)), g.addInt64(`${base}/ends`, x.map((d, k) => p[k + 1] + d)), g.addInt64(`${base}/axes`, [1, 2, 3])];
    return [g.add('Slice', [c.dy, ...slice], {}, base), null];
  },
};

function padsOf(node: GraphNode, g: OnnxGraph): number[] {
  const mode = node.attrs.mode;
  const p = g.initializers.get(node.inputs[1])?.data;
  if ((mode && (!('s' in mode) || mode.s !== 'constant')) || node.inputs.length > 2 || !(p instanceof BigInt64Array) || p.length !== 8) {
    refuse(node, 'only a constant-zero 4-D Pad');
  }
  return Array.from(p, Number);
}

export const gradientRules: Record<string, GradientRule> = {
  Conv: conv,
  Clip: clip,
  Relu: relu,
  Add: add,
  Transpose: transpose,
  Flatten: flatten,
  Reshape: reshape,
  GlobalAveragePool: globalAveragePool,
  MaxPool: maxPoolRule,
  AveragePool: averagePoolRule,
  Concat: concatRule,
  Pad: pad,
  Gemm: gemm,
  Mul: mul,
  Sum: sum,
  Sub: sub,
  Sqrt: constantOnly,
  Reciprocal: constantOnly,
  Slice: slice,
  ReduceMean: reduceMean,
  [DEPTHWISE_TAPS]: depthwiseTapsRule,
  Identity: { shape: same, grad: passThrough },
};

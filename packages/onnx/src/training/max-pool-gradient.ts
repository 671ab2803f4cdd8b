// The gradient of MaxPool (NCHW, opset 13) without its Indices output: ScatterElements cannot add up
// duplicates before opset 16, and ResNet's 3×3/2 stem pool has overlapping windows. Instead, per kernel tap,
// the strided window of the input that the tap saw is compared with the output: of the taps that equal the
// max, the last in row-major order takes dY, as TF.js's MaxPoolGrad does (ties are real: a ReLU-dead patch
// gives equal outputs, its bias, at neighbouring positions). The per-tap gradients, stacked as C·K channels, go back to
// their input positions in one grouped ConvTranspose whose kernel is one-hot per tap (overlaps add up).
import type { GraphNode, OnnxGraph } from '../export/onnx-graph.ts';
import { NoGradientRuleError, type Dims, type GradientRule } from './gradient-rules.ts';

export function refuse(node: GraphNode, reason: string): never {
  throw new NoGradientRuleError(node.name, node.opType, reason);
}

export function ints(node: GraphNode, name: string, fallback: number[]): number[] {
  const a = node.attrs[name];
  if (a === undefined) return fallback;
  return 'ints' in a ? a.ints : refuse(node, `attribute ${name} ${JSON.stringify(a)}`);
}

/** A 2-D pool's window geometry (NCHW input), shared with AveragePool's rule. */
export function poolGeometry(node: GraphNode, x: Dims) {
  if (node.attrs.auto_pad) refuse(node, 'auto_pad (an input of unknown size)');
  if (node.attrs.ceil_mode && 'i' in node.attrs.ceil_mode && node.attrs.ceil_mode.i) refuse(node, 'ceil_mode');
  const kernel = ints(node, 'kernel_shape', []);
  if (kernel.length !== 2) refuse(node, `a ${kernel.length}-D kernel`);
  if (ints(node, 'dilations', [1, 1]).some((d) => d !== 1)) refuse(node, 'dilations');
  const strides = ints(node, 'strides', [1, 1]);
  const pads = ints(node, 'pads', [0, 0, 0, 0]);
  const [channels, h, w] = x.slice(1);
  if (channels === null || h === null || w === null || x.length !== 4) refuse(node, `input ${JSON.stringify(x)}`);
  const out = [0, 1].map((k) => Math.floor(([h, w][k] + pads[k] + pads[k + 2] - kernel[k]) / strides[k]) + 1);
  // ConvTranspose's output_padding that gives the gradient the input's own size
  const outputPadding = [0, 1].map((i) => [h, w][i] - ((out[i] - 1) * strides[i] + kernel[i] - pads[i] - pads[i + 2]));
  return { channels, h, w, kernel, strides, pads, out, outputPadding };
}

/** A 2-D pool's output shape. */
export const poolShape: GradientRule['shape'] = (node, [x]) => {
  const geo = poolGeometry(node, x);
  return [x[0], geo.channels, ...geo.out];
};

/** Per-window values [n, C·m, Ho, Wo] back to the input's positions: a ConvTranspose in C groups (overlaps add up). */
export function windowsBack(g: OnnxGraph, geo: ReturnType<typeof poolGeometry>, values: string, weight: string, base: string): string {
  const attrs = { kernel_shape: { ints: geo.kernel }, strides: { ints: geo.strides }, pads: { ints: geo.pads }, group: { i: geo.channels }, output_padding: { ints: geo.outputPadding } };
  return g.add('ConvTranspose', [values, weight], attrs, base);
}

export const maxPoolRule: GradientRule = {
  shape: poolShape,
  grad(c) {
    const { g, node, dy } = c;
    const geo = poolGeometry(node, c.shape(node.inputs[0]));
    const [kh, kw] = geo.kernel;
    const [pt, pl, pb, pr] = geo.pads;
    const base = `${node.name}/dX`;
    const y = node.outputs[0];
    // padded cells are −FLT_MAX: never the max of a window that holds a real value
    const x = geo.pads.some((p) => p > 0)
      ? g.add('Pad', [node.inputs[0], g.addInt64(`${base}/pads`, [0, 0, pt, pl, 0, 0, pb, pr]), g.addFloat(`${base}/lowest`, [], Float32Array.of(-3.4028234663852886e38))], {}, base)
      : node.inputs[0];
    const axes = g.addInt64(`${base}/axes`, [2, 3]);
    const steps = g.addInt64(`${base}/steps`, geo.strides);
    const zero = g.addFloat(`${base}/zero`, [], new Float32Array(1));
    const stackAxis = g.addInt64(`${base}/stack_axis`, [2]);
    let taken: string | null = null;
    const taps: string[] = [];
    // from the last tap backwards, so that a tap takes dY only if no later one already did
    for (let t = kh * kw - 1; t >= 0; t--) {
      const [a, b] = [Math.floor(t / kw), t % kw];
      const ends = [a + (geo.out[0] - 1) * geo.strides[0] + 1, b + (geo.out[1] - 1) * geo.strides[1] + 1];
      const window = g.add('Slice', [x, g.addInt64(`${base}/starts`, [a, b]), g.addInt64(`${base}/ends`, ends), axes, steps], {}, base);
      const hit = g.add('Equal', [window, y], {}, base);
      const wins: string = taken ? g.add('And', [hit, g.add('Not', [taken], {}, base)], {}, base) : hit;
      taken = taken ? g.add('Or', [taken, hit], {}, base) : hit;
      taps[t] = g.add('Unsqueeze', [g.add('Where', [wins, dy, zero], {}, base), stackAxis], {}, base);
    }
    const taps5d = g.add('Concat', taps, { axis: { i: 2 } }, base); // [n, C, K, Ho, Wo]
    const k = kh * kw;
    const stacked = g.add('Reshape', [taps5d, g.addInt64(`${base}/shape`, [-1, geo.channels * k, ...geo.out])], {}, base);
    // ConvTranspose weight [C·K, 1, kh, kw]: channel c·K + t carries tap t = a·kw + b of channel c back to (a, b)
    const oneHot = new Float32Array(geo.channels * k * k);
    for (let ch = 0; ch < geo.channels; ch++) for (let t = 0; t < k; t++) oneHot[(ch * k + t) * k + t] = 1;
    const weight = g.addFloat(`${base}/taps`, [geo.channels * k, 1, kh, kw], oneHot);
    return [windowsBack(g, geo, stacked, weight, base)];
  },
};

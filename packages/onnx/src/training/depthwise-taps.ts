// A stride-1 depthwise convolution on NHWC values as a sum over kernel taps of (shifted window × that tap's
// per-channel weights), which ONNX Runtime runs fast with the weights as an input. It stays one placeholder
// node (padding included) while the backward graph is built, so its gradient can be the same construction
// again: dX is the taps of dY padded by span − 1 − pad with the kernel flipped, computed on the unpadded
// input's pixels only. The differentiated expansion (one padded copy of dY per tap) measured ~3× slower, and
// a gradient taken for the padded input and then cropped did 25/9 of the work on 3×3 maps (MobileNetV2's
// last blocks at 96 px); expandDepthwiseTaps turns the placeholders into real ops.
import type { GraphNode, OnnxGraph } from '../export/onnx-graph.ts';
import type { GradientRule } from './gradient-rules.ts';

export const DEPTHWISE_TAPS = 'GraftDepthwiseTaps';

interface TapGeometry {
  kernel: number[];
  dilations: number[];
  /** output height and width */
  out: number[];
  /** zeros added before and after the rows and columns: [top, left, bottom, right] */
  pads: number[];
}

function geometryOf(node: GraphNode): TapGeometry {
  const get = (k: string) => (node.attrs[k] as { ints: number[] }).ints;
  return { kernel: get('kernel_shape'), dilations: get('dilations'), out: get('out_hw'), pads: get('pads') };
}

/** y[n, i, j, c] = Σ_taps xp[n, i + a·d, j + b·d, c] · w[a·kw + b, c]; xp is `x` padded by `geo.pads`, `w` [kh·kw, C]. */
export function depthwiseTaps(g: OnnxGraph, x: string, w: string, geo: TapGeometry, base: string): string {
  const attrs = { kernel_shape: { ints: geo.kernel }, dilations: { ints: geo.dilations }, out_hw: { ints: geo.out }, pads: { ints: geo.pads } };
  return g.add(DEPTHWISE_TAPS, [x, w], attrs, base);
}

/** The padding of dY whose taps with the flipped kernel give dX: the span less one, less the forward padding. */
export function inputGradPads(kernel: number[], dilations: number[], pads: number[]): number[] {
  return pads.map((p, k) => (kernel[k % 2] - 1) * dilations[k % 2] - p);
}

/** `x` (NHWC) padded by [top, left, bottom, right], or `x` itself when they are all 0. */
function padded(g: OnnxGraph, x: string, [pt, pl, pb, pr]: number[], base: string): string {
  return pt || pl || pb || pr ? g.add('Pad', [x, g.addInt64(`${base}/pads`, [0, pt, pl, 0, 0, pb, pr, 0])], {}, base) : x;
}

/** The window of tap (a, b): rows a·d … a·d + out. */
function window(g: OnnxGraph, x: string, geo: TapGeometry, a: number, b: number, base: string): string {
  const start = [a * geo.dilations[0], b * geo.dilations[1]];
  const ends = [start[0] + geo.out[0], start[1] + geo.out[1]];
  return g.add('Slice', [x, g.addInt64(`${base}/starts`, start), g.addInt64(`${base}/ends`, ends), g.addInt64(`${base}/axes`, [1, 2])], {}, base);
}

export const depthwiseTapsRule: GradientRule = {
  shape(node, [x, w]) {
    const geo = geometryOf(node);
    return [x[0], geo.out[0], geo.out[1], w[1]];
  },
  grad(c) {
    const { g, node, dy, needs } = c;
    const [x, w] = node.inputs;
    const geo = geometryOf(node);
    const [, h, wd] = c.shape(x) as number[];
    const base = `${node.name}/grad`;
    const taps = geo.kernel[0] * geo.kernel[1];
    let dx: string | null = null;
    if (needs[0]) {
      const flipped = g.add('Slice', [w, g.addInt64(`${base}/last`, [-1]), g.addInt64(`${base}/before_first`, [-(taps + 1)]), g.addInt64(`${base}/axis`, [0]), g.addInt64(`${base}/back`, [-1])], {}, base);
      dx = depthwiseTaps(g, dy, flipped, { ...geo, out: [h, wd], pads: inputGradPads(geo.kernel, geo.dilations, geo.pads) }, `${base}/dX`);
    }
    let dw: string | null = null;
    if (needs[1]) {
      const axes = g.addInt64(`${base}/sum_axes`, [0, 1, 2]);
      const xp = padded(g, x, geo.pads, base);
      const perTap: string[] = [];
      for (let a = 0; a < geo.kernel[0]; a++) {
        for (let b = 0; b < geo.kernel[1]; b++) {
          perTap.push(g.add('ReduceSum', [g.add('Mul', [dy, window(g, xp, geo, a, b, base)], {}, base), axes], { keepdims: { i: 1 } }, base));
        }
      }
      const stacked = g.add('Concat', perTap, { axis: { i: 2 } }, base);
      dw = g.add('Reshape', [stacked, g.addInt64(`${base}/shape`, [taps, -1])], {}, `${base}/dW`);
    }
    return [dx, dw];
  },
};

/** `nodes` with every placeholder replaced by its Pad/Slice/Mul/Sum expansion (in place of the placeholder, in order). */
export function expandDepthwiseTaps(g: OnnxGraph, nodes: GraphNode[]): GraphNode[] {
  const rest = g.nodes.splice(0);
  for (const node of nodes) {
    if (node.opType !== DEPTHWISE_TAPS) {
      g.nodes.push(node);
      continue;
    }
    const [x, w] = node.inputs;
    const geo = geometryOf(node);
    const xp = padded(g, x, geo.pads, node.name);
    const tapAxis = g.addInt64(`${node.name}/tap_axis`, [0]);
    const terms: string[] = [];
    for (let a = 0; a < geo.kernel[0]; a++) {
      for (let b = 0; b < geo.kernel[1]; b++) {
        const t = a * geo.kernel[1] + b;
        const tap = g.add('Slice', [w, g.addInt64(`${node.name}/tap`, [t]), g.addInt64(`${node.name}/tap_end`, [t + 1]), tapAxis], {}, node.name);
        terms.push(g.add('Mul', [window(g, xp, geo, a, b, node.name), tap], {}, node.name));
      }
    }
    g.nodes.push({ name: node.name, opType: 'Sum', inputs: terms, outputs: node.outputs, attrs: {} });
  }
  const expanded = g.nodes.splice(0);
  g.nodes.push(...rest);
  return expanded;
}

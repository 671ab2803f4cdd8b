// A stride-1 depthwise convolution on NHWC values as a sum over kernel taps of (shifted window × that tap's
// per-channel weights), which ONNX Runtime runs fast with the weights as an input. It stays one placeholder
// node while the backward graph is built, so its gradient can be the same construction again (dX: the
// taps of the padded dY with the kernel flipped) instead of the differentiated expansion (one padded copy
// of dY per tap, measured ~3× slower); expandDepthwiseTaps turns the placeholders into real ops.
import type { GraphNode, OnnxGraph } from '../export/onnx-graph.ts';
import type { GradientRule } from './gradient-rules.ts';

export const DEPTHWISE_TAPS = 'GraftDepthwiseTaps';

interface TapGeometry {
  kernel: number[];
  dilations: number[];
  /** output height and width */
  out: number[];
}

function geometryOf(node: GraphNode): TapGeometry {
  const get = (k: string) => (node.attrs[k] as { ints: number[] }).ints;
  return { kernel: get('kernel_shape'), dilations: get('dilations'), out: get('out_hw') };
}

/** y[n, i, j, c] = Σ_taps x[n, i + a·d, j + b·d, c] · w[a·kw + b, c]; `x` already padded, `w` [kh·kw, C]. */
export function depthwiseTaps(g: OnnxGraph, x: string, w: string, geo: TapGeometry, base: string): string {
  return g.add(DEPTHWISE_TAPS, [x, w], { kernel_shape: { ints: geo.kernel }, dilations: { ints: geo.dilations }, out_hw: { ints: geo.out } }, base);
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
      const [ph, pw] = [(geo.kernel[0] - 1) * geo.dilations[0], (geo.kernel[1] - 1) * geo.dilations[1]];
      const padded = g.add('Pad', [dy, g.addInt64(`${base}/pads`, [0, ph, pw, 0, 0, ph, pw, 0])], {}, base);
      const flipped = g.add('Slice', [w, g.addInt64(`${base}/last`, [-1]), g.addInt64(`${base}/before_first`, [-(taps + 1)]), g.addInt64(`${base}/axis`, [0]), g.addInt64(`${base}/back`, [-1])], {}, base);
      dx = depthwiseTaps(g, padded, flipped, { ...geo, out: [h, wd] }, `${base}/dX`);
    }
    let dw: string | null = null;
    if (needs[1]) {
      const axes = g.addInt64(`${base}/sum_axes`, [0, 1, 2]);
      const perTap: string[] = [];
      for (let a = 0; a < geo.kernel[0]; a++) {
        for (let b = 0; b < geo.kernel[1]; b++) {
          perTap.push(g.add('ReduceSum', [g.add('Mul', [dy, window(g, x, geo, a, b, base)], {}, base), axes], { keepdims: { i: 1 } }, base));
        }
      }
      const stacked = g.add('Concat', perTap, { axis: { i: 2 } }, base);
      dw = g.add('Reshape', [stacked, g.addInt64(`${base}/shape`, [taps, -1])], {}, `${base}/dW`);
    }
    return [dx, dw];
  },
};

/** `nodes` with every placeholder replaced by its Slice/Mul/Sum expansion (in place of the placeholder, in order). */
export function expandDepthwiseTaps(g: OnnxGraph, nodes: GraphNode[]): GraphNode[] {
  const rest = g.nodes.splice(0);
  for (const node of nodes) {
    if (node.opType !== DEPTHWISE_TAPS) {
      g.nodes.push(node);
      continue;
    }
    const [x, w] = node.inputs;
    const geo = geometryOf(node);
    const tapAxis = g.addInt64(`${node.name}/tap_axis`, [0]);
    const terms: string[] = [];
    for (let a = 0; a < geo.kernel[0]; a++) {
      for (let b = 0; b < geo.kernel[1]; b++) {
        const t = a * geo.kernel[1] + b;
        const tap = g.add('Slice', [w, g.addInt64(`${node.name}/tap`, [t]), g.addInt64(`${node.name}/tap_end`, [t + 1]), tapAxis], {}, node.name);
        terms.push(g.add('Mul', [window(g, x, geo, a, b, node.name), tap], {}, node.name));
      }
    }
    g.nodes.push({ name: node.name, opType: 'Sum', inputs: terms, outputs: node.outputs, attrs: {} });
  }
  const expanded = g.nodes.splice(0);
  g.nodes.push(...rest);
  return expanded;
}

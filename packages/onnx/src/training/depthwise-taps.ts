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
  /** input and output height and width */
  in: number[];
  out: number[];
  /** zeros added before and after the rows and columns: [top, left, bottom, right] */
  pads: number[];
}

function geometryOf(node: GraphNode): TapGeometry {
  const get = (k: string) => (node.attrs[k] as { ints: number[] }).ints;
  return { kernel: get('kernel_shape'), dilations: get('dilations'), in: get('in_hw'), out: get('out_hw'), pads: get('pads') };
}

/** y[n, i, j, c] = Σ_taps xp[n, i + a·d, j + b·d, c] · w[a·kw + b, c]; xp is `x` padded by `geo.pads`, `w` [kh·kw, C]. */
export function depthwiseTaps(g: OnnxGraph, x: string, w: string, geo: TapGeometry, base: string): string {
  const attrs = { kernel_shape: { ints: geo.kernel }, dilations: { ints: geo.dilations }, in_hw: { ints: geo.in }, out_hw: { ints: geo.out }, pads: { ints: geo.pads } };
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

/**
 * Maps of at most this many pixels (in and out) convolve as one batched MatMul, per channel a dense
 * [pixels in × pixels out] matrix holding the taps: one kernel instead of a Slice and a Mul per tap over
 * activations that leave the cache. Measured on ORT CPU, batch 32: 3×3 and 7×7 maps 2–3× faster than the
 * tap sum, 6×6 2.5×; at 12×12 the matrices' zeros make it 1.6× slower.
 */
const MATMUL_MAX_PIXELS = 64;
/**
 * The kernel's gradient as MatMuls (per channel a product per pixel pair): 1.4–1.6× faster at 3×3–6×6; at 7×7
 * (224 px's last blocks) 1.1× slower while X was transposed apart, and a whole training step 5 % faster since
 * the FusedMatMul transposes it (bench/engine/suffix-step.ts --sizes 224: 367 → 348 CPU ms, loaded).
 */
const WEIGHT_GRAD_MATMUL_MAX_PIXELS = 49;

function asMatMul(geo: TapGeometry, maxPixels = MATMUL_MAX_PIXELS): boolean {
  return Math.max(geo.in[0] * geo.in[1], geo.out[0] * geo.out[1]) <= maxPixels;
}

/** Per (input pixel q, output pixel p), row-major: the tap through which p reads q, or kh·kw where none does. */
function tapOfPixels(geo: TapGeometry): number[] {
  const [hi, wi] = geo.in;
  const [ho, wo] = geo.out;
  const index: number[] = [];
  for (let q = 0; q < hi * wi; q++) {
    for (let p = 0; p < ho * wo; p++) {
      // output row i reads padded row i + a·d, i.e. input row i + a·d − top
      const [a, b] = [0, 1].map((k) => {
        const tap = ([Math.floor(q / wi), q % wi][k] - [Math.floor(p / wo), p % wo][k] + geo.pads[k]) / geo.dilations[k];
        return Number.isInteger(tap) && tap >= 0 && tap < geo.kernel[k] ? tap : -1;
      });
      index.push(a < 0 || b < 0 ? geo.kernel[0] * geo.kernel[1] : a * geo.kernel[1] + b);
    }
  }
  return index;
}

/** NHWC `v` with `pixels` = h·w as [C, N, pixels] (perm [2, 0, 1]). */
function channelMajor(g: OnnxGraph, v: string, pixels: number, base: string): string {
  return g.add('Transpose', [g.add('Reshape', [v, g.addInt64(`${base}/pixels`, [0, pixels, -1])], {}, base)], { perm: { ints: [2, 0, 1] } }, base);
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
      dx = depthwiseTaps(g, dy, flipped, { ...geo, in: geo.out, out: [h, wd], pads: inputGradPads(geo.kernel, geo.dilations, geo.pads) }, `${base}/dX`);
    }
    const dw = needs[1] ? (asMatMul(geo, WEIGHT_GRAD_MATMUL_MAX_PIXELS) ? weightGradMatMul : weightGradSum)(g, x, dy, geo, `${base}/dW`) : null;
    return [dx, dw];
  },
};

/** dW per tap: Σ over batch and pixels of dY times the window of the padded input the tap saw. */
function weightGradSum(g: OnnxGraph, x: string, dy: string, geo: TapGeometry, base: string): string {
  const axes = g.addInt64(`${base}/sum_axes`, [0, 1, 2]);
  const xp = padded(g, x, geo.pads, base);
  const perTap: string[] = [];
  for (let a = 0; a < geo.kernel[0]; a++) {
    for (let b = 0; b < geo.kernel[1]; b++) {
      perTap.push(g.add('ReduceSum', [g.add('Mul', [dy, window(g, xp, geo, a, b, base)], {}, base), axes], { keepdims: { i: 1 } }, base));
    }
  }
  const stacked = g.add('Concat', perTap, { axis: { i: 2 } }, base);
  return g.add('Reshape', [stacked, g.addInt64(`${base}/shape`, [geo.kernel[0] * geo.kernel[1], -1])], {}, base);
}

/**
 * The same sums on small maps: per channel Xᵀ·dY over the batch ([pixels in × pixels out], one batched
 * MatMul), then each tap's pixel pairs added up by a MatMul with a 0/1 matrix. X is transposed inside ONNX
 * Runtime's FusedMatMul (transA): laying it out [C, pixels, N] first was a per-float transpose, 2.2 of a
 * 48 ms backward pass at 96 px (ONNX Runtime merges two cheap transposes back into that one).
 */
function weightGradMatMul(g: OnnxGraph, x: string, dy: string, geo: TapGeometry, base: string): string {
  const taps = geo.kernel[0] * geo.kernel[1];
  const [pin, pout] = [geo.in[0] * geo.in[1], geo.out[0] * geo.out[1]];
  const pairs = g.uniqueName(base);
  const [xt, dyt] = [channelMajor(g, x, pin, base), channelMajor(g, dy, pout, base)];
  g.nodes.push({ name: g.uniqueName(`${base}/FusedMatMul`), opType: 'FusedMatMul', domain: 'com.microsoft', inputs: [xt, dyt], outputs: [pairs], attrs: { transA: { i: 1 } } });
  const select = new Float32Array(pin * pout * taps);
  tapOfPixels(geo).forEach((t, k) => {
    if (t < taps) select[k * taps + t] = 1;
  });
  const flat = g.add('Reshape', [pairs, g.addInt64(`${base}/pairs`, [0, -1])], {}, base);
  const perChannel = g.add('MatMul', [flat, g.addFloat(`${base}/tap_of_pair`, [pin * pout, taps], select)], {}, base);
  return g.add('Transpose', [perChannel], { perm: { ints: [1, 0] } }, base);
}

/** The tap sum as a Pad and, per tap, a window Slice times that tap's row of `w`. */
function tapSum(g: OnnxGraph, node: GraphNode, geo: TapGeometry): void {
  const [x, w] = node.inputs;
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

/**
 * The same sums as y[c] = x[c] · A[c] over [C, N, pixels]: A[c, q, p] is the tap through which output pixel
 * p reads input pixel q (gathered from `w`'s rows with a zero row for pairs no tap joins).
 */
function tapMatMul(g: OnnxGraph, node: GraphNode, geo: TapGeometry): void {
  const [x, w] = node.inputs;
  const base = node.name;
  const [pin, pout] = [geo.in[0] * geo.in[1], geo.out[0] * geo.out[1]];
  // [taps + 1, C]: the taps and a zero row; whole rows gathered, then one 2-D transpose (gathering single
  // floats along axis 1 cost ~8 ms per pass at 7×7)
  const rows = g.add('Pad', [w, g.addInt64(`${base}/no_tap`, [0, 0, 1, 0])], {}, base);
  const gathered = g.add('Gather', [rows, g.addInt64(`${base}/tap_of_pixels`, tapOfPixels(geo))], { axis: { i: 0 } }, base);
  const matrices = g.add('Reshape', [g.add('Transpose', [gathered], { perm: { ints: [1, 0] } }, base), g.addInt64(`${base}/matrices`, [-1, pin, pout])], {}, base);
  const y = g.add('Transpose', [g.add('MatMul', [channelMajor(g, x, pin, base), matrices], {}, base)], { perm: { ints: [1, 2, 0] } }, base);
  g.nodes.push({ name: g.uniqueName(`${base}/Reshape`), opType: 'Reshape', inputs: [y, g.addInt64(`${base}/nhwc`, [0, geo.out[0], geo.out[1], -1])], outputs: node.outputs, attrs: {} });
}

/** `nodes` with every placeholder replaced by its expansion (in place of the placeholder, in order). */
export function expandDepthwiseTaps(g: OnnxGraph, nodes: GraphNode[]): GraphNode[] {
  const rest = g.nodes.splice(0);
  for (const node of nodes) {
    if (node.opType !== DEPTHWISE_TAPS) {
      g.nodes.push(node);
      continue;
    }
    const geo = geometryOf(node);
    (asMatMul(geo) ? tapMatMul : tapSum)(g, node, geo);
  }
  const expanded = g.nodes.splice(0);
  g.nodes.push(...rest);
  return expanded;
}


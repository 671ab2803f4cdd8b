// Rewrites the exporter's NCHW graph into the form that trains fast with weights as graph INPUTS. ONNX
// Runtime's fast convolution paths (NCHWc layouts, pre-packed weights) need constant weights; with inputs it
// falls back to one small GEMM per image (MobileNetV2's last blocks at 96 px: 3×3 maps, 9-column GEMMs) and a
// per-group loop for depthwise convs (measured: 12.5 ms per batch of 32 against 4 ms with baked weights).
// So values stay NHWC: a 1×1 conv is one Gemm over batch × pixels, a stride-1 depthwise conv is a sum of
// shifted windows times per-channel weights, and pooling reduces the spatial axes. Anything else runs as
// before on NCHW values (Transposes inserted where layouts meet).
import { relaid } from '../export/derivation.ts';
import { NCHW_TO_NHWC, NHWC_TO_NCHW, transpose4d } from '../export/layout.ts';
import type { GraphNode, OnnxGraph } from '../export/onnx-graph.ts';
import { depthwiseTaps, inputGradPads } from './depthwise-taps.ts';
import type { Dims } from './gradient-rules.ts';

function ints(node: GraphNode, name: string, fallback: number[]): number[] {
  const a = node.attrs[name];
  return a && 'ints' in a ? a.ints : fallback;
}

function sameArray(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, k) => v === b[k]);
}

/** Lowers `g` in place; `shapes` holds the NCHW graph's static shapes (see inferShapes). */
export function lowerToNhwc(g: OnnxGraph, shapes: Map<string, Dims>): void {
  const original = g.nodes.splice(0);
  // NCHW value -> the same data laid out NHWC; the NCHW value itself is materialised only where a kept node reads it
  const nhwc = new Map<string, string>();
  const nchw = (v: string): string => {
    const held = nhwc.get(v);
    if (held && !g.producerOf(v)) g.nodes.push({ name: g.uniqueName(`${v}/nchw`), opType: 'Transpose', inputs: [held], outputs: [v], attrs: { perm: { ints: NHWC_TO_NCHW } } });
    return v;
  };
  // an NCHW value a lowered op reads: transposed once
  const asNhwc = (v: string): string => {
    let held = nhwc.get(v);
    if (!held) {
      held = g.add('Transpose', [v], { perm: { ints: NCHW_TO_NHWC } }, `${v}/nhwc`);
      nhwc.set(v, held);
    }
    return held;
  };
  const keep = (node: GraphNode) => {
    node.inputs = node.inputs.map((i) => (i ? nchw(i) : i));
    g.nodes.push(node);
  };

  for (const node of original) {
    const [x] = node.inputs;
    const rank4 = (v: string) => shapes.get(v)?.length === 4;
    const out = node.outputs[0];
    const base = node.name;
    const perm = ints(node, 'perm', []);
    if (node.opType === 'Transpose' && sameArray(perm, NHWC_TO_NCHW)) {
      nhwc.set(out, x);
    } else if (node.opType === 'Transpose' && nhwc.has(x) && sameArray(perm, NCHW_TO_NHWC)) {
      g.nodes.push({ name: g.uniqueName(base), opType: 'Identity', inputs: [nhwc.get(x)!], outputs: [out], attrs: {} });
    } else if (node.opType === 'Conv' && rank4(x) && lowerConv(g, node, () => asNhwc(x), shapes, nhwc)) {
      // lowered
    } else if ((node.opType === 'Clip' || node.opType === 'Relu') && rank4(x)) {
      nhwc.set(out, g.add(node.opType, [asNhwc(x), ...node.inputs.slice(1)], node.attrs, base));
    } else if (node.opType === 'Add' && node.inputs.every(rank4)) {
      nhwc.set(out, g.add('Add', node.inputs.map(asNhwc), {}, base));
    } else if (node.opType === 'Identity' && nhwc.has(x)) {
      nhwc.set(out, nhwc.get(x)!);
    } else if (node.opType === 'GlobalAveragePool' && rank4(x)) {
      nhwc.set(out, g.add('ReduceMean', [asNhwc(x)], { axes: { ints: [1, 2] }, keepdims: { i: 1 } }, base));
    } else if (node.opType === 'Flatten' && nhwc.has(x) && shapes.get(x)?.[2] === 1 && shapes.get(x)?.[3] === 1) {
      // [n, C, 1, 1] and [n, 1, 1, C] hold the same numbers
      g.nodes.push({ ...node, inputs: [nhwc.get(x)!] });
    } else if (node.opType === 'Pad' && rank4(x) && node.inputs.length === 2 && g.initializers.get(node.inputs[1])?.data instanceof BigInt64Array) {
      const p = Array.from(g.initializers.get(node.inputs[1])!.data as BigInt64Array, Number);
      const pads = g.addInt64(`${base}/pads_nhwc`, [p[0], p[2], p[3], p[1], p[4], p[6], p[7], p[5]]);
      nhwc.set(out, g.add('Pad', [asNhwc(x), pads], node.attrs, base));
    } else {
      keep(node);
    }
  }
}

/** A 1×1 or stride-1 depthwise Conv on an NHWC value; false when it is neither (kept NCHW). */
function lowerConv(g: OnnxGraph, node: GraphNode, input: () => string, shapes: Map<string, Dims>, nhwc: Map<string, string>): boolean {
  const [x, w, b] = node.inputs;
  const weight = g.initializers.get(w);
  const xs = shapes.get(x);
  const ys = shapes.get(node.outputs[0]);
  if (!weight || !(weight.data instanceof Float32Array) || !xs || !ys || node.attrs.auto_pad) return false;
  const [out, inPerGroup, kh, kw] = weight.dims;
  const strides = ints(node, 'strides', [1, 1]);
  const dilations = ints(node, 'dilations', [1, 1]);
  const pads = ints(node, 'pads', [0, 0, 0, 0]);
  const group = node.attrs.group && 'i' in node.attrs.group ? node.attrs.group.i : 1;
  const base = node.name;
  const [, channels, h, wd] = xs as number[];
  const [, , ho, wo] = ys as number[];
  if (group === 1 && kh === 1 && kw === 1 && strides.every((s) => s === 1) && pads.every((p) => p === 0)) {
    const xh = input();
    // the weight [O, C, 1, 1] re-laid as the Gemm's B [C, O]: the Keras kernel's own order, so the training
    // graph feeds the variable with a mere Reshape
    const perm = [1, 0, 2, 3];
    weight.data = transpose4d(weight.data, weight.dims, perm);
    if (weight.derivation) weight.derivation = relaid(weight.derivation, weight.dims, perm);
    weight.dims = [inPerGroup, out];
    const rows = g.add('Reshape', [xh, g.addInt64(`${base}/rows`, [-1, channels])], {}, base);
    const y = g.add('Gemm', [rows, w, ...(b ? [b] : [])], {}, base);
    nhwc.set(node.outputs[0], g.add('Reshape', [y, g.addInt64(`${base}/nhwc`, [-1, h, wd, out])], {}, base));
    return true;
  }
  if (group !== channels || inPerGroup !== 1 || out !== channels || !strides.every((s) => s === 1)) return false;
  // padding beyond the kernel's span (never emitted for Keras' same/valid) would need a cropped dY in the gradient
  if (inputGradPads([kh, kw], dilations, pads).some((p) => p < 0)) return false;
  // depthwise: the weight [C, 1, kh, kw] re-laid as [kh·kw, C], one row per tap
  const xh = input();
  const perm = [2, 3, 0, 1];
  weight.dims = [kh * kw, out];
  weight.data = transpose4d(weight.data, [out, 1, kh, kw], perm);
  if (weight.derivation) weight.derivation = relaid(weight.derivation, [out, 1, kh, kw], perm);
  const y = depthwiseTaps(g, xh, w, { kernel: [kh, kw], dilations, in: [h, wd], out: [ho, wo], pads }, base);
  nhwc.set(node.outputs[0], b ? g.add('Add', [y, b], {}, base) : y);
  return true;
}

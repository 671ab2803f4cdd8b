// Gradients of the two ops InceptionV3's blocks add to MobileNetV2's: Concat (each input takes its slice of
// dY back) and AveragePool as Keras exports it (count_include_pad 0: a 'same' window's average leaves the
// padded cells out of its count). Without them an InceptionV3 suffix trained on TF.js, whose BatchNorm without
// `scale` (all of InceptionV3's) has no gradient there (tensorflow/tfjs#2868): fine_tune failed.
import type { GraphNode } from '../export/onnx-graph.ts';
import type { GradientRule } from './gradient-rules.ts';
import { poolGeometry, poolShape, refuse, windowsBack } from './max-pool-gradient.ts';

function concatAxis(node: GraphNode, rank: number): number {
  const a = node.attrs.axis;
  const axis = a && 'i' in a ? a.i : refuse(node, 'no axis');
  return axis < 0 ? axis + rank : axis;
}

export const concatRule: GradientRule = {
  shape(node, inputs) {
    const axis = concatAxis(node, inputs[0].length);
    const sizes = inputs.map((s) => s[axis] ?? refuse(node, 'concatenating along the batch'));
    return inputs[0].map((d, k) => (k === axis ? sizes.reduce((p, q) => p + q, 0) : d));
  },
  grad(c) {
    const { g, node, dy } = c;
    const shapes = node.inputs.map((v) => c.shape(v));
    const axis = concatAxis(node, shapes[0].length);
    const base = `${node.name}/dX`;
    const axes = g.addInt64(`${base}/axes`, [axis]);
    let offset = 0;
    return shapes.map((s, k) => {
      const start = offset;
      offset += s[axis] as number;
      return c.needs[k] ? g.add('Slice', [dy, g.addInt64(`${base}/starts`, [start]), g.addInt64(`${base}/ends`, [offset]), axes], {}, base) : null;
    });
  },
};

/** dX: dY divided by each window's count, spread back over the window by a ones-kernel depthwise ConvTranspose. */
export const averagePoolRule: GradientRule = {
  shape: poolShape,
  grad(c) {
    const { g, node, dy } = c;
    const geo = poolGeometry(node, c.shape(node.inputs[0]));
    const include = node.attrs.count_include_pad;
    const countsPads = !!(include && 'i' in include && include.i);
    const [kh, kw] = geo.kernel;
    const base = `${node.name}/dX`;
    // per output cell, 1 / the number of real (or, with count_include_pad, all) input cells its window covers
    const inverse = new Float32Array(geo.out[0] * geo.out[1]);
    const covered = (o: number, k: number, size: number) => {
      const from = o * geo.strides[k] - geo.pads[k];
      const to = from + geo.kernel[k];
      return countsPads ? geo.kernel[k] : Math.min(to, size) - Math.max(from, 0);
    };
    for (let i = 0; i < geo.out[0]; i++) for (let j = 0; j < geo.out[1]; j++) inverse[i * geo.out[1] + j] = 1 / (covered(i, 0, geo.h) * covered(j, 1, geo.w));
    const scaled = g.add('Mul', [dy, g.addFloat(`${base}/inverse_count`, [1, 1, ...geo.out], inverse)], {}, base);
    const ones = g.addFloat(`${base}/ones`, [geo.channels, 1, kh, kw], new Float32Array(geo.channels * kh * kw).fill(1));
    return [windowsBack(g, geo, scaled, ones, base)];
  },
};

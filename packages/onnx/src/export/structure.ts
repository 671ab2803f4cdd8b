// Layers that route or reshape tensors: merges, padding, flatten/reshape, rescaling, and the
// inference-time identities (dropout, noise).
import { refuse, type LayerExport, type LayerExporter } from './layer-export.ts';
import { fromChannelsLast, NCHW_TO_NHWC, NHWC_TO_NCHW, onnxAxis, toChannelsLast } from './layout.ts';
import type { Value } from './onnx-graph.ts';

const out = (l: LayerExport, name: string): Value[] => [{ name, shape: l.outputShapes[0] }];

function merge(op: 'Sum' | 'Mul' | 'Mean' | 'Max' | 'Min'): LayerExporter {
  return (l) => {
    const rank = l.inputs[0].shape.length;
    // Keras broadcasts merges in channels-last terms; equal ranks keep the NCHW layout consistent
    if (l.inputs.some((x) => x.shape.length !== rank)) refuse(l, 'inputs of different ranks');
    const names = l.inputs.map((x) => x.name);
    const binary = { Sum: 'Add', Mul: 'Mul', Max: 'Max', Min: 'Min', Mean: 'Mean' }[op];
    return out(l, l.graph.add(names.length === 2 ? binary : op, names, {}, l.name));
  };
}

function identity(l: LayerExport): Value[] {
  return [{ name: l.inputs[0].name, shape: l.outputShapes[0] }];
}

export const structureExporters: Record<string, LayerExporter> = {
  Add: merge('Sum'),
  Multiply: merge('Mul'),
  Average: merge('Mean'),
  Maximum: merge('Max'),
  Minimum: merge('Min'),
  Concatenate: (l) => {
    const rank = l.inputs[0].shape.length;
    if (l.inputs.some((x) => x.shape.length !== rank)) refuse(l, 'inputs of different ranks');
    const axis = onnxAxis(Number(l.config.axis ?? -1), rank);
    return out(l, l.graph.add('Concat', l.inputs.map((x) => x.name), { axis: { i: axis } }, l.name));
  },
  ZeroPadding2D: (l) => {
    if (l.config.dataFormat !== undefined && l.config.dataFormat !== 'channelsLast') refuse(l, 'channelsFirst');
    const p = l.config.padding as number[][];
    if (!Array.isArray(p) || p.length !== 2 || !p.every((r) => Array.isArray(r) && r.length === 2)) refuse(l, `padding ${JSON.stringify(p)}`);
    const [[top, bottom], [left, right]] = p;
    const pads = l.graph.addInt64(`${l.name}/pads`, [0, 0, top, left, 0, 0, bottom, right]);
    return out(l, l.graph.add('Pad', [l.inputs[0].name, pads], { mode: { s: 'constant' } }, l.name));
  },
  Flatten: (l) => {
    const x = l.inputs[0];
    // Keras flattens in H, W, C order; with a 1x1 map NCHW is already in that order
    const spatialOne = x.shape.length === 4 && x.shape[1] === 1 && x.shape[2] === 1;
    const src = spatialOne ? x.name : toChannelsLast(l.graph, x, l.name);
    return out(l, l.graph.add('Flatten', [src], { axis: { i: 1 } }, l.name));
  },
  Reshape: (l) => {
    const target = l.config.targetShape as number[];
    const shape = l.graph.addInt64(`${l.name}/shape`, [0, ...target.map((d) => (d === null ? -1 : d))]);
    const y = l.graph.add('Reshape', [toChannelsLast(l.graph, l.inputs[0], l.name), shape], {}, l.name);
    return out(l, fromChannelsLast(l.graph, y, l.outputShapes[0], l.name));
  },
  Permute: (l) => {
    const keras = [0, ...(l.config.dims as number[])];
    const rank = l.inputs[0].shape.length;
    if (keras.length !== rank) refuse(l, `dims ${JSON.stringify(l.config.dims)} for a rank-${rank} input`);
    // rank 4 is stored NCHW on both sides: ONNX axis k of the output is Keras axis NHWC_TO_NCHW[k], which
    // comes from Keras input axis keras[·], stored at ONNX input axis NCHW_TO_NHWC[·]
    const perm = rank === 4 ? NHWC_TO_NCHW.map((a) => NCHW_TO_NHWC[keras[a]]) : keras;
    return out(l, l.graph.add('Transpose', [l.inputs[0].name], { perm: { ints: perm } }, l.name));
  },
  Rescaling: (l) => {
    const g = l.graph;
    const scale = g.addFloat(`${l.name}/scale`, [], Float32Array.of(Number(l.config.scale)));
    const offset = g.addFloat(`${l.name}/offset`, [], Float32Array.of(Number(l.config.offset ?? 0)));
    return out(l, g.add('Add', [g.add('Mul', [l.inputs[0].name, scale], {}, l.name), offset], {}, l.name));
  },
  Dropout: identity,
  SpatialDropout1D: identity,
  GaussianNoise: identity,
  GaussianDropout: identity,
  AlphaDropout: identity,
};

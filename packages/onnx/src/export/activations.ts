// Activation functions (fused `activation` settings and the activation layers) as ONNX ops.
import { refuse, type LayerExport, type LayerExporter } from './layer-export.ts';
import { onnxAxis } from './layout.ts';
import type { OnnxGraph, Value } from './onnx-graph.ts';

/** Applies a Keras activation identifier to a value; returns the output name. */
export function applyActivation(l: LayerExport, input: Value, id: unknown): string {
  const g = l.graph;
  const x = input.name;
  const base = l.name;
  switch (id) {
    case undefined:
    case null:
    case 'linear':
      return x;
    case 'relu':
      return g.add('Relu', [x], {}, base);
    case 'relu6':
      return clip(g, x, 0, 6, base);
    case 'elu':
      return g.add('Elu', [x], { alpha: { f: 1 } }, base);
    case 'selu':
      return g.add('Selu', [x], {}, base);
    case 'sigmoid':
      return g.add('Sigmoid', [x], {}, base);
    case 'hardSigmoid':
      // tf.js: clip(0.2x + 0.5, 0, 1), ONNX's defaults
      return g.add('HardSigmoid', [x], { alpha: { f: 0.2 }, beta: { f: 0.5 } }, base);
    case 'tanh':
      return g.add('Tanh', [x], {}, base);
    case 'softplus':
      return g.add('Softplus', [x], {}, base);
    case 'softsign':
      return g.add('Softsign', [x], {}, base);
    case 'swish':
      return g.add('Mul', [x, g.add('Sigmoid', [x], {}, base)], {}, base);
    case 'softmax':
      return g.add('Softmax', [x], { axis: { i: onnxAxis(-1, input.shape.length) } }, base);
    default:
      return refuse(l, `activation ${JSON.stringify(id)}`);
  }
}

/** Clip with its bounds as inputs (opset 11+). */
export function clip(g: OnnxGraph, x: string, min: number, max: number, base: string): string {
  const lo = g.addFloat(`${base}/min`, [], Float32Array.of(min));
  const hi = g.addFloat(`${base}/max`, [], Float32Array.of(max));
  return g.add('Clip', [x, lo, hi], {}, base);
}

const one = (l: LayerExport, name: string): Value[] => [{ name, shape: l.outputShapes[0] }];

export const activationExporters: Record<string, LayerExporter> = {
  Activation: (l) => one(l, applyActivation(l, l.inputs[0], l.config.activation)),
  ReLU: (l) => {
    const max = l.config.maxValue;
    if (max === null || max === undefined) return one(l, l.graph.add('Relu', [l.inputs[0].name], {}, l.name));
    return one(l, clip(l.graph, l.inputs[0].name, 0, Number(max), l.name));
  },
  LeakyReLU: (l) => one(l, l.graph.add('LeakyRelu', [l.inputs[0].name], { alpha: { f: Number(l.config.alpha ?? 0.3) } }, l.name)),
  ELU: (l) => one(l, l.graph.add('Elu', [l.inputs[0].name], { alpha: { f: Number(l.config.alpha ?? 1) } }, l.name)),
  Softmax: (l) => {
    const axis = l.config.axis ?? -1;
    if (typeof axis !== 'number') refuse(l, `softmax over several axes ${JSON.stringify(axis)}`);
    const x = l.inputs[0];
    return one(l, l.graph.add('Softmax', [x.name], { axis: { i: onnxAxis(axis, x.shape.length) } }, l.name));
  },
};

// Dense as Gemm on [n, features] inputs (the heads), and as MatMul on the last Keras axis of higher ranks (the
// served model's mirror, served-model.ts).
import { applyActivation } from './activations.ts';
import { refuse, type LayerExporter } from './layer-export.ts';
import { fromChannelsLast, toChannelsLast } from './layout.ts';

export const denseExporters: Record<string, LayerExporter> = {
  Dense: (l) => {
    const x = l.inputs[0];
    if (x.shape.length < 2) refuse(l, `Dense on a rank-${x.shape.length} input`);
    const g = l.graph;
    const [kernel, bias] = l.weights;
    const [cin, cout] = kernel.shape;
    const w = g.addFloat(`${l.name}/W`, [cin, cout], kernel.data.slice());
    const b = g.addFloat(`${l.name}/B`, [cout], l.config.useBias === false ? new Float32Array(cout) : bias.data.slice());
    const shape = l.outputShapes[0];
    if (x.shape.length === 2) {
      const y = g.add('Gemm', [x.name, w, b], {}, l.name);
      return [{ name: applyActivation(l, { name: y, shape }, l.config.activation), shape }];
    }
    // Keras applies it to the last axis, which is not the last ONNX axis of an NCHW-stored rank-4 value
    const product = g.add('MatMul', [toChannelsLast(g, x, l.name), w], {}, l.name);
    const y = l.config.useBias === false ? product : g.add('Add', [product, b], {}, l.name);
    const activated = applyActivation(l, { name: y, shape }, l.config.activation);
    return [{ name: fromChannelsLast(g, activated, shape, l.name), shape }];
  },
};

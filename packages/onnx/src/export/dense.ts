// Dense as Gemm on [n, features] inputs (the only place Keras heads use it here).
import { applyActivation } from './activations.ts';
import { refuse, type LayerExporter } from './layer-export.ts';

export const denseExporters: Record<string, LayerExporter> = {
  Dense: (l) => {
    const x = l.inputs[0];
    if (x.shape.length !== 2) refuse(l, `Dense on a rank-${x.shape.length} input (only [n, features] is exported)`);
    const g = l.graph;
    const [kernel, bias] = l.weights;
    const [cin, cout] = kernel.shape;
    const w = g.addFloat(`${l.name}/W`, [cin, cout], kernel.data.slice());
    const b = g.addFloat(`${l.name}/B`, [cout], l.config.useBias === false ? new Float32Array(cout) : bias.data.slice());
    const shape = l.outputShapes[0];
    const y = g.add('Gemm', [x.name, w, b], {}, l.name);
    return [{ name: applyActivation(l, { name: y, shape }, l.config.activation), shape }];
  },
};

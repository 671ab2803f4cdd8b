// BatchNormalization (inference form) as an ONNX BatchNormalization over the channel axis; the
// Conv pass folds it away when a Conv feeds it.
import { variable, type DerivedData } from './derivation.ts';
import { refuse, type LayerExporter } from './layer-export.ts';

export const normalizationExporters: Record<string, LayerExporter> = {
  BatchNormalization: (l) => {
    const x = l.inputs[0];
    const rank = x.shape.length;
    const axis = Number(l.config.axis ?? -1);
    if (rank < 2 || (axis !== -1 && axis !== rank - 1)) refuse(l, `normalisation over axis ${axis} of a rank-${rank} input (only channels)`);
    const channels = x.shape[rank - 1];
    if (channels === null) refuse(l, 'unknown channel count');
    // tf.js adds gamma only with `scale`, beta only with `center`, then the moving statistics
    const w = l.weights.map((t): DerivedData => ({ data: t.data, dims: t.shape, derivation: variable(t.variable) }));
    const gamma = l.config.scale === false ? { data: new Float32Array(channels).fill(1), dims: [channels] } : w.shift()!;
    const beta = l.config.center === false ? { data: new Float32Array(channels), dims: [channels] } : w.shift()!;
    const [mean, variance] = w;
    const g = l.graph;
    const inputs = [x.name, ...[gamma, beta, mean, variance].map((d, k) => g.addFloat(`${l.name}/${['scale', 'B', 'mean', 'var'][k]}`, [channels], d.data, d.derivation))];
    const name = g.add('BatchNormalization', inputs, { epsilon: { f: Number(l.config.epsilon ?? 1e-3) } }, l.name);
    return [{ name, shape: l.outputShapes[0] }];
  },
};

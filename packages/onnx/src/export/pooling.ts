// Max/average pooling and their global forms (which Keras returns flat, [n, channels]).
import { padAttrs, tfPads } from './conv.ts';
import { ints, refuse, requireChannelsLast, type LayerExporter } from './layer-export.ts';
import type { Attr, Value } from './onnx-graph.ts';

function pool(op: 'MaxPool' | 'AveragePool'): LayerExporter {
  return (l) => {
    requireChannelsLast(l);
    const x = l.inputs[0];
    if (x.shape.length !== 4) refuse(l, `rank-${x.shape.length} input`);
    const kernel = ints(l, 'poolSize');
    const strides = ints(l, 'strides', kernel);
    const pads = tfPads([x.shape[1], x.shape[2]], kernel, strides, [1, 1], l.config.padding);
    // TF's 'same' average leaves the padded cells out of the count
    const count: Record<string, Attr> = op === 'AveragePool' ? { count_include_pad: { i: 0 } } : {};
    const name = l.graph.add(op, [x.name], { kernel_shape: { ints: kernel }, strides: { ints: strides }, ...padAttrs(l, pads), ...count }, l.name);
    return [{ name, shape: l.outputShapes[0] }];
  };
}

function globalPool(op: 'GlobalMaxPool' | 'GlobalAveragePool'): LayerExporter {
  return (l): Value[] => {
    requireChannelsLast(l);
    if (l.config.keepDims) refuse(l, 'keepDims');
    const x = l.inputs[0];
    if (x.shape.length !== 4) refuse(l, `rank-${x.shape.length} input`);
    const pooled = l.graph.add(op, [x.name], {}, l.name);
    return [{ name: l.graph.add('Flatten', [pooled], { axis: { i: 1 } }, l.name), shape: l.outputShapes[0] }];
  };
}

export const poolingExporters: Record<string, LayerExporter> = {
  MaxPooling2D: pool('MaxPool'),
  AveragePooling2D: pool('AveragePool'),
  GlobalMaxPooling2D: globalPool('GlobalMaxPool'),
  GlobalAveragePooling2D: globalPool('GlobalAveragePool'),
};

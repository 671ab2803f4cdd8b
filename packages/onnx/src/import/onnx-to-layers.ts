// An ONNX image model (a torchvision/timm export, or our own exporter's output) rebuilt as a TF.js layers
// model, which the engine can cut into blocks, train, export and serve like any other backbone. ONNX works
// on NCHW values; the layers model works on NHWC tensors, so each rank-4 ONNX value is tracked with the
// layout its axes have (NCHW for a torchvision model throughout; NHWC at our exporter's input, before its
// Transpose) and weights are re-laid once. Ops outside the supported set are refused with op and node.
import * as tf from '@tensorflow/tfjs';
import { decodeModel, type AttributeMessage, type NodeMessage, type TensorMessage } from '../onnx-proto.ts';

/** The file has an op (or an op setting) with no layers equivalent here. */
export class UnsupportedOnnxError extends Error {
  readonly code = 'unsupported_onnx';
  constructor(
    readonly opType: string,
    readonly nodeName: string,
    reason: string,
  ) {
    super(`ONNX op ${opType} (node "${nodeName}") cannot be imported: ${reason}`);
    this.name = 'UnsupportedOnnxError';
  }
}

export const importableOps = [
  'Conv', 'BatchNormalization', 'Relu', 'Clip', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'Add', 'Sum',
  'Concat', 'Gemm', 'MatMul', 'Flatten', 'Reshape', 'Pad', 'Transpose', 'Identity', 'Dropout', 'Softmax', 'Constant',
] as const;

type T = tf.SymbolicTensor;

/**
 * How an ONNX value maps onto a layers tensor: `nchw`/`nhwc` say what the ONNX axes of a rank-4 value
 * mean (the tensor is always NHWC); `pooled` is ONNX [n, C, 1, 1] held as [n, C]; `flat` is [n, F], with
 * `chw` when it came from flattening a C×H×W map in ONNX's (channel-major) order.
 */
interface Held {
  tensor: T;
  layout: 'nchw' | 'nhwc' | 'pooled' | 'flat';
  chw?: [number, number, number];
  /** a Relu/Clip(0, …) output: zero padding is then the same as −∞ padding for a max pool */
  nonNegative?: boolean;
  /** the bias-free Dense of a MatMul, which a following Add of a constant completes */
  pendingBias?: { layer: tf.layers.Layer; kernel: tf.Tensor };
}

interface Constant {
  dims: number[];
  data: Float32Array | BigInt64Array;
}

const FLOAT = 1;
const INT64 = 7;

function tensorData(t: TensorMessage, node: string): Constant {
  const dims = (t.dims ?? []).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const raw = t.rawData && t.rawData.length ? t.rawData : null;
  const f = t as TensorMessage & { floatData?: number[]; int64Data?: number[] };
  if (t.dataType === FLOAT) {
    const data = raw ? new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)) : Float32Array.from(f.floatData ?? []);
    if (data.length !== count) throw new UnsupportedOnnxError('Initializer', node, `tensor ${t.name} holds ${data.length} of ${count} values (external data is not supported)`);
    return { dims, data };
  }
  if (t.dataType === INT64) {
    const data = raw ? new BigInt64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)) : BigInt64Array.from((f.int64Data ?? []).map((v) => BigInt(v)));
    return { dims, data };
  }
  throw new UnsupportedOnnxError('Initializer', node, `tensor ${t.name} has data type ${t.dataType} (float32 and int64 only)`);
}

function attrs(node: NodeMessage): Map<string, AttributeMessage> {
  return new Map((node.attribute ?? []).map((a) => [a.name, a]));
}

/** ONNX [O, I, kh, kw] -> Keras [kh, kw, I, O]. */
function kerasKernel(w: Constant): tf.Tensor {
  return tf.tidy(() => tf.transpose(tf.tensor(w.data as Float32Array, w.dims), [2, 3, 1, 0]));
}

/** TF's 'same' pads [top, left, bottom, right] for one input size (the odd pixel at the end). */
function samePads(hw: number[], kernel: number[], strides: number[], dilations: number[]): number[] {
  const begin: number[] = [];
  const end: number[] = [];
  for (let k = 0; k < 2; k++) {
    const total = Math.max((Math.ceil(hw[k] / strides[k]) - 1) * strides[k] + (kernel[k] - 1) * dilations[k] + 1 - hw[k], 0);
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
  }
  return [...begin, ...end];
}

export interface ImportedModel {
  model: tf.LayersModel;
  /** the input's height and width when the file fixes them */
  inputSize: [number | null, number | null];
}

/** Rebuilds the ONNX model in `bytes` as a layers model image [n, h, w, 3] -> the file's (first) output. */
export function onnxToLayers(bytes: Uint8Array): ImportedModel {
  const onnx = decodeModel(bytes);
  const graph = onnx.graph;
  const constants = new Map<string, Constant>();
  for (const t of graph.initializer ?? []) constants.set(t.name, tensorData(t, t.name));
  const inputs = (graph.input ?? []).filter((i) => !constants.has(i.name));
  if (inputs.length !== 1) throw new UnsupportedOnnxError('Input', graph.name ?? '', `the model has ${inputs.length} inputs; an image backbone has one`);
  const dims = inputs[0].type.tensorType.shape.dim.map((d) => ('dimValue' in d && d.dimValue ? Number(d.dimValue) : null));
  if (dims.length !== 4) throw new UnsupportedOnnxError('Input', inputs[0].name, `a rank-${dims.length} input; an image batch is [n, 3, h, w] or [n, h, w, 3]`);
  // NCHW unless the channels are last (our exporter's NHWC input)
  const nhwcInput = dims[3] === 3 && dims[1] !== 3;
  const [h, w] = nhwcInput ? [dims[1], dims[2]] : [dims[2], dims[3]];
  if ((nhwcInput ? dims[3] : dims[1]) !== 3) throw new UnsupportedOnnxError('Input', inputs[0].name, `input ${JSON.stringify(dims)} is not a 3-channel image batch`);
  const input = tf.input({ shape: [h, w, 3], name: 'input' });

  const held = new Map<string, Held>([[inputs[0].name, { tensor: input, layout: nhwcInput ? 'nhwc' : 'nchw' }]]);
  const weights: [tf.layers.Layer, tf.Tensor[]][] = [];
  const used = new Set<string>();
  const layerName = (node: NodeMessage, k: number) => {
    let base = (node.name || `${node.opType}_${k}`).replace(/[^A-Za-z0-9_]/g, '_').replace(/^_+/, '') || `node_${k}`;
    if (!/^[A-Za-z]/.test(base)) base = `n_${base}`;
    let name = base;
    for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
    used.add(name);
    return name;
  };

  try {
    graph.node.forEach((node, k) => {
      const a = attrs(node);
      const where = node.name || `#${k}`;
      const fail = (reason: string): never => {
        throw new UnsupportedOnnxError(node.opType, where, reason);
      };
      const int = (key: string, fallback: number) => Number(a.get(key)?.i ?? fallback);
      const list = (key: string, fallback: number[]) => (a.get(key)?.ints ?? fallback).map(Number);
      const value = (i: number): Held => held.get(node.input[i]) ?? fail(`input ${node.input[i]} is ${constants.has(node.input[i]) ? 'a constant' : 'not produced by a supported node'}`);
      const constant = (i: number): Constant => constants.get(node.input[i]) ?? fail(`input ${node.input[i]} must be a constant`);
      const spatial = (x: Held) => (x.layout === 'nchw' ? x : fail(`a ${x.layout} input (expects an NCHW feature map)`));
      const name = () => layerName(node, k);
      const out = (h: Held) => held.set(node.output[0], h);
      const apply = (layer: tf.layers.Layer, x: T | T[], ws?: tf.Tensor[]): T => {
        const y = layer.apply(x) as T;
        if (ws) weights.push([layer, ws]);
        return y;
      };
      const shape = (x: Held) => x.tensor.shape.slice(1) as number[];

      switch (node.opType) {
        case 'Constant': {
          const t = a.get('value') as (AttributeMessage & { t?: TensorMessage }) | undefined;
          if (!t?.t) fail('only a tensor value');
          constants.set(node.output[0], tensorData(t!.t!, where));
          return;
        }
        case 'Identity':
        case 'Dropout':
          out(value(0));
          return;
        case 'Transpose': {
          const x = value(0);
          const perm = list('perm', []).join(',');
          if (x.layout === 'nhwc' && perm === '0,3,1,2') return void out({ ...x, layout: 'nchw' });
          if (x.layout === 'nchw' && perm === '0,2,3,1') return void out({ ...x, layout: 'nhwc' });
          return fail(`perm [${perm}] on a ${x.layout} value (only NHWC <-> NCHW)`);
        }
        case 'Conv': {
          const x = spatial(value(0));
          const wt = constant(1);
          const [cout, cinPerGroup, kh, kw] = wt.dims;
          const group = int('group', 1);
          const strides = list('strides', [1, 1]);
          const dilations = list('dilations', [1, 1]);
          const [ih, iw, cin] = shape(x);
          const autoPad = a.get('auto_pad')?.s ? new TextDecoder().decode(a.get('auto_pad')!.s) : 'NOTSET';
          if (autoPad !== 'NOTSET' && autoPad !== 'SAME_UPPER' && autoPad !== 'VALID') fail(`auto_pad ${autoPad}`);
          let pads = autoPad === 'VALID' ? [0, 0, 0, 0] : list('pads', [0, 0, 0, 0]);
          let padding: 'same' | 'valid' = autoPad === 'SAME_UPPER' ? 'same' : 'valid';
          if (padding === 'valid' && pads.some((p) => p) && ih && iw && pads.join() === samePads([ih, iw], [kh, kw], strides, dilations).join()) {
            padding = 'same';
            pads = [0, 0, 0, 0];
          }
          let t = x.tensor;
          if (padding === 'valid' && pads.some((p) => p)) t = apply(tf.layers.zeroPadding2d({ padding: [[pads[0], pads[2]], [pads[1], pads[3]]], name: `${name()}_pad` }), t);
          const bias = node.input[2] ? constant(2) : null;
          const common = { kernelSize: [kh, kw] as [number, number], strides: strides as [number, number], dilationRate: dilations as [number, number], padding, useBias: !!bias, name: name() };
          const b = bias ? [tf.tensor1d(bias.data as Float32Array)] : [];
          if (group === 1) {
            out({ tensor: apply(tf.layers.conv2d({ ...common, filters: cout }), t, [kerasKernel(wt), ...b]), layout: 'nchw' });
          } else if (group === cin && cinPerGroup === 1 && cout % cin === 0) {
            // depthwise: ONNX [C·M, 1, kh, kw] -> Keras [kh, kw, C, M]
            const m = cout / cin;
            const dw = tf.tidy(() => tf.transpose(tf.tensor(wt.data as Float32Array, [cin, m, kh, kw]), [2, 3, 0, 1]));
            out({ tensor: apply(tf.layers.depthwiseConv2d({ ...common, depthMultiplier: m }), t, [dw, ...b]), layout: 'nchw' });
          } else {
            // grouped: one conv with a block-diagonal kernel (same outputs; training may fill the off-diagonal blocks)
            if (cin !== group * cinPerGroup || cout % group) fail(`group ${group} with ${cin} input and ${cout} output channels`);
            const full = new Float32Array(cout * cin * kh * kw);
            const perGroupOut = cout / group;
            const src = wt.data as Float32Array;
            for (let o = 0; o < cout; o++) {
              const g = Math.floor(o / perGroupOut);
              for (let i = 0; i < cinPerGroup; i++) {
                for (let p = 0; p < kh * kw; p++) full[(o * cin + g * cinPerGroup + i) * kh * kw + p] = src[(o * cinPerGroup + i) * kh * kw + p];
              }
            }
            out({ tensor: apply(tf.layers.conv2d({ ...common, filters: cout }), t, [kerasKernel({ dims: [cout, cin, kh, kw], data: full }), ...b]), layout: 'nchw' });
          }
          return;
        }
        case 'BatchNormalization': {
          const x = value(0);
          if (x.layout !== 'nchw' && x.layout !== 'flat' && x.layout !== 'pooled') fail(`a ${x.layout} input`);
          const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => tf.tensor1d(constant(i).data as Float32Array));
          const layer = tf.layers.batchNormalization({ axis: -1, epsilon: Number(a.get('epsilon')?.f ?? 1e-5), name: name() });
          out({ ...x, tensor: apply(layer, x.tensor, [gamma, beta, mean, variance]), nonNegative: false, pendingBias: undefined });
          return;
        }
        case 'Relu': {
          const x = value(0);
          out({ ...x, tensor: apply(tf.layers.reLU({ name: name() }), x.tensor), nonNegative: true, pendingBias: undefined });
          return;
        }
        case 'Clip': {
          const x = value(0);
          const bound = (i: number, attr: string) => {
            if (node.input[i]) return Number((constant(i).data as Float32Array)[0]);
            return a.get(attr)?.f !== undefined ? Number(a.get(attr)!.f) : undefined;
          };
          const [lo, hi] = [bound(1, 'min'), bound(2, 'max')];
          if (lo !== 0 || hi === undefined) fail(`bounds ${lo}…${hi} (only 0…max, e.g. ReLU6)`);
          out({ ...x, tensor: apply(tf.layers.reLU({ maxValue: hi, name: name() }), x.tensor), nonNegative: true, pendingBias: undefined });
          return;
        }
        case 'MaxPool':
        case 'AveragePool': {
          const x = spatial(value(0));
          const kernel = list('kernel_shape', []);
          const strides = list('strides', [1, 1]);
          if (int('ceil_mode', 0)) fail('ceil_mode');
          if (list('dilations', [1, 1]).some((d) => d !== 1)) fail('dilations');
          const pads = list('pads', [0, 0, 0, 0]);
          const [ih, iw] = shape(x);
          const max = node.opType === 'MaxPool';
          let padding: 'same' | 'valid' = 'valid';
          let t = x.tensor;
          if (pads.some((p) => p)) {
            const sameAsTf = ih && iw && pads.join() === samePads([ih, iw], kernel, strides, [1, 1]).join();
            // TF's 'same' pool ignores padded cells (max: −∞, average: not counted)
            if (sameAsTf && (max || !int('count_include_pad', 0))) padding = 'same';
            else if (max ? x.nonNegative : int('count_include_pad', 0)) {
              // zero padding is exact here: a max over non-negative values, or an average that counts the pads
              t = apply(tf.layers.zeroPadding2d({ padding: [[pads[0], pads[2]], [pads[1], pads[3]]], name: `${name()}_pad` }), t);
            } else fail(`pads [${pads}] ${max ? 'on values that may be negative' : 'excluded from the average'} (not expressible as TF padding)`);
          }
          const config = { poolSize: kernel as [number, number], strides: strides as [number, number], padding, name: name() };
          out({ ...x, tensor: apply(max ? tf.layers.maxPooling2d(config) : tf.layers.averagePooling2d(config), t) });
          return;
        }
        case 'GlobalAveragePool':
        case 'GlobalMaxPool': {
          const x = spatial(value(0));
          const layer = node.opType === 'GlobalAveragePool' ? tf.layers.globalAveragePooling2d({ name: name() }) : tf.layers.globalMaxPooling2d({ name: name() });
          out({ tensor: apply(layer, x.tensor), layout: 'pooled', nonNegative: x.nonNegative });
          return;
        }
        case 'Flatten':
        case 'Reshape': {
          const x = value(0);
          if (node.opType === 'Flatten' && int('axis', 1) !== 1) fail(`axis ${int('axis', 1)}`);
          if (node.opType === 'Reshape') {
            const target = Array.from(constant(1).data as BigInt64Array, Number);
            const [hh, ww, cc] = x.layout === 'nchw' ? shape(x) : [1, 1, shape(x)[0]];
            if (target.length !== 2 || ![0, 1, -1].includes(target[0]) || ![-1, hh * ww * cc].includes(target[1])) fail(`target shape [${target}] (only flattening to [n, features])`);
          }
          if (x.layout === 'pooled' || x.layout === 'flat') return void out({ ...x, layout: 'flat' });
          if (x.layout !== 'nchw') fail(`a ${x.layout} input`);
          const [hh, ww, cc] = shape(x);
          // Keras flattens H, W, C; ONNX C, H, W: the same numbers when the map is 1×1, else remembered for the Dense
          out({ tensor: apply(tf.layers.flatten({ name: name() }), x.tensor), layout: 'flat', chw: hh === 1 && ww === 1 ? undefined : [cc, hh, ww], nonNegative: x.nonNegative });
          return;
        }
        case 'Gemm':
        case 'MatMul': {
          const x = value(0);
          if (x.layout !== 'flat' && x.layout !== 'pooled') fail(`a ${x.layout} input (expects [n, features])`);
          const gemm = node.opType === 'Gemm';
          if (gemm && (int('transA', 0) || Number(a.get('alpha')?.f ?? 1) !== 1 || Number(a.get('beta')?.f ?? 1) !== 1)) fail('transA, alpha or beta');
          const b = constant(1);
          let kernel = tf.tensor2d(b.data as Float32Array, b.dims as [number, number]);
          if (gemm && int('transB', 0)) kernel = tf.tidy(() => tf.transpose(kernel));
          const [fin, units] = kernel.shape;
          if (x.chw) {
            // rows in ONNX's C,H,W order -> Keras' H,W,C
            const [c, hh, ww] = x.chw;
            kernel = tf.tidy(() => tf.reshape(tf.transpose(tf.reshape(kernel, [c, hh, ww, units]), [1, 2, 0, 3]), [fin, units]));
          }
          const bias = gemm && node.input[2] ? constant(2) : null;
          if (bias && bias.data.length !== units) fail(`a bias of ${bias.data.length} values for ${units} units`);
          const layer = tf.layers.dense({ units, useBias: true, name: name() });
          const biasValue = bias ? tf.tensor1d(bias.data as Float32Array) : tf.zeros([units]);
          out({ tensor: apply(layer, x.tensor, [kernel, biasValue]), layout: 'flat', pendingBias: bias ? undefined : { layer, kernel } });
          return;
        }
        case 'Add':
        case 'Sum': {
          const operands = node.input.map((i) => held.get(i) ?? null);
          const constIndex = node.input.findIndex((i) => constants.has(i));
          if (node.opType === 'Add' && constIndex >= 0) {
            // MatMul + Add(bias): the bias of the Dense created for the MatMul
            const x = operands[1 - constIndex];
            const c = constants.get(node.input[constIndex])!;
            const pending = x?.pendingBias;
            if (!pending || c.data.length !== pending.kernel.shape[1]) fail('adding a constant other than the bias of a MatMul');
            const entry = weights.find(([l]) => l === pending!.layer)!;
            entry[1][1].dispose();
            entry[1][1] = tf.tensor1d(c.data as Float32Array);
            return void out({ ...x!, pendingBias: undefined });
          }
          const xs = operands.map((o, i) => o ?? fail(`input ${node.input[i]} is not produced by a supported node`));
          if (xs.some((x) => x.layout !== xs[0].layout)) fail('inputs of different layouts');
          if (xs.some((x) => shape(x).join() !== shape(xs[0]).join())) fail('broadcasting (inputs of different shapes)');
          out({ tensor: apply(tf.layers.add({ name: name() }), xs.map((x) => x.tensor)), layout: xs[0].layout });
          return;
        }
        case 'Concat': {
          const xs = node.input.map((_, i) => value(i));
          const axis = int('axis', 1);
          if (xs.some((x) => x.layout !== xs[0].layout)) fail('inputs of different layouts');
          const channels = (xs[0].layout === 'nchw' && axis === 1) || ((xs[0].layout === 'flat' || xs[0].layout === 'pooled') && axis === 1);
          if (!channels || xs.some((x) => x.chw)) fail(`axis ${axis} of ${xs[0].layout} values (only the channel axis)`);
          out({ tensor: apply(tf.layers.concatenate({ axis: -1, name: name() }), xs.map((x) => x.tensor)), layout: xs[0].layout, nonNegative: xs.every((x) => x.nonNegative) });
          return;
        }
        case 'Pad': {
          const x = spatial(value(0));
          const mode = a.get('mode')?.s ? new TextDecoder().decode(a.get('mode')!.s) : 'constant';
          const pads = node.input[1] ? Array.from(constant(1).data as BigInt64Array, Number) : list('pads', []);
          const fill = node.input[2] ? (constant(2).data as Float32Array)[0] : 0;
          if (mode !== 'constant' || fill !== 0) fail(`mode ${mode} with value ${fill} (only zero padding)`);
          if (pads.length !== 8 || pads[0] || pads[1] || pads[4] || pads[5]) fail(`pads [${pads}] (only height and width)`);
          const layer = tf.layers.zeroPadding2d({ padding: [[pads[2], pads[6]], [pads[3], pads[7]]], name: name() });
          out({ ...x, tensor: apply(layer, x.tensor) });
          return;
        }
        case 'Softmax': {
          const x = value(0);
          if (x.layout !== 'flat' && x.layout !== 'pooled') fail(`a ${x.layout} input`);
          out({ tensor: apply(tf.layers.softmax({ name: name() }), x.tensor), layout: 'flat' });
          return;
        }
        default:
          fail(`not in the supported set (${importableOps.join(', ')})`);
      }
    });
    const outputName = graph.output[0]?.name;
    const result = held.get(outputName) ?? fail2(`output ${outputName} is not produced by a supported node`);
    const model = tf.model({ inputs: input, outputs: result.tensor, name: 'onnx_backbone' });
    for (const [layer, ws] of weights) layer.setWeights(ws);
    return { model, inputSize: [h, w] };
  } finally {
    for (const [, ws] of weights) tf.dispose(ws);
  }
}

function fail2(message: string): never {
  throw new UnsupportedOnnxError('Output', '', message);
}

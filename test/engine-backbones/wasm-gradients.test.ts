// The gradient kernels we add to wasm (three missing, one replaced), against the cpu backend's kernels on random inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../packages/engine/src/runtime/backend.ts';
import { mulberry32 } from '../support/images.ts';

type Pad = 'same' | 'valid' | tf.backend_util.ExplicitPadding;
interface Case {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number;
  pad: Pad;
  dilations?: number;
}

function randomArray(n: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
}

/** Runs one registered kernel on a backend with the same random inputs and returns its output values. */
async function runOn(backend: string, kernel: string, inputs: Record<string, { shape: number[]; values: Float32Array }>, attrs: object) {
  await tf.setBackend(backend);
  const tensors = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, tf.tensor(v.values, v.shape)]));
  const out = tf.engine().runKernel(kernel, tensors, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  const result = { shape: out.shape, values: (await out.data()) as Float32Array };
  tf.dispose([out, ...Object.values(tensors)]);
  return result;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function maxAbs(a: Float32Array): number {
  return a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

async function compare(t: { diagnostic(msg: string): void }, kernel: string, c: Case, depthwise: boolean) {
  const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, c.dilations ?? 1, c.pad, undefined, depthwise);
  const dyShape = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  const x = { shape: c.x, values: randomArray(tf.util.sizeFromShape(c.x), 1) };
  const filter = { shape: c.filter, values: randomArray(tf.util.sizeFromShape(c.filter), 2) };
  const dy = { shape: dyShape, values: randomArray(tf.util.sizeFromShape(dyShape), 3) };
  const common = { strides: c.strides, pad: c.pad, dilations: c.dilations ?? 1, dimRoundingMode: undefined };
  const [inputs, attrs] =
    kernel.endsWith('BackpropInput')
      ? [{ dy, filter }, { ...common, inputShape: c.x, dataFormat: 'NHWC' }]
      : [{ x, dy }, { ...common, filterShape: c.filter, dataFormat: 'NHWC' }];
  const ours = await runOn('wasm', kernel, inputs, attrs);
  const ref = c.dilations && c.dilations > 1 ? await dilatedReference(kernel, c, x, filter, dy) : await runOn('cpu', kernel, inputs, attrs);
  await tf.setBackend('wasm');
  assert.deepEqual(ours.shape, ref.shape);
  const err = maxAbsDiff(ours.values, ref.values);
  t.diagnostic(`${kernel} x=${c.x} filter=${c.filter} stride=${c.strides} pad=${JSON.stringify(c.pad)} dilation=${c.dilations ?? 1}: max abs error ${err.toExponential(2)} (max |value| ${maxAbs(ref.values).toFixed(2)})`);
  assert.ok(err <= 1e-4 * Math.max(1, maxAbs(ref.values)), `${kernel} max abs error ${err}`);
  return err;
}

/**
 * The cpu kernels ignore dilation (TF.js refuses dilated gradients at the op level), so the reference
 * for a dilated depthwise conv is the undilated one with the filter spread out by zeros: the same
 * convolution, whose gradient at the non-zero taps is the dilated filter's gradient.
 */
async function dilatedReference(kernel: string, c: Case, x: { shape: number[]; values: Float32Array }, filter: { shape: number[]; values: Float32Array }, dy: { shape: number[]; values: Float32Array }) {
  const d = c.dilations!;
  const [kh, kw, ch, m] = c.filter;
  const wide = [(kh - 1) * d + 1, (kw - 1) * d + 1, ch, m];
  // flat index of tap (i, j), channel k in the dilated filter and in the spread one
  const taps = Array.from({ length: kh * kw * ch * m }, (_, f) => {
    const k = f % (ch * m);
    const tap = (f - k) / (ch * m);
    const [i, j] = [Math.floor(tap / kw), tap % kw];
    return [f, (i * d * wide[1] + j * d) * ch * m + k];
  });
  const common = { strides: c.strides, pad: c.pad, dilations: 1, dimRoundingMode: undefined };
  if (kernel === 'DepthwiseConv2dNativeBackpropInput') {
    const spread = new Float32Array(tf.util.sizeFromShape(wide));
    for (const [f, w] of taps) spread[w] = filter.values[f];
    return runOn('cpu', kernel, { dy, filter: { shape: wide, values: spread } }, { ...common, inputShape: c.x });
  }
  const full = await runOn('cpu', kernel, { x, dy }, { ...common, filterShape: wide });
  const values = new Float32Array(tf.util.sizeFromShape(c.filter));
  for (const [f, w] of taps) values[f] = full.values[w];
  return { shape: c.filter, values };
}

const explicitPad: tf.backend_util.ExplicitPadding = [[0, 0], [1, 2], [0, 1], [0, 0]];

const convCases: Case[] = [
  { x: [2, 9, 9, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { x: [2, 9, 9, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'same' },
  { x: [2, 10, 10, 3], filter: [3, 3, 3, 5], strides: 2, pad: 'valid' },
  { x: [3, 7, 7, 16], filter: [1, 1, 16, 8], strides: 1, pad: 'same' },
  { x: [2, 8, 8, 6], filter: [1, 1, 6, 4], strides: 2, pad: 'valid' },
  { x: [1, 11, 11, 2], filter: [5, 5, 2, 3], strides: 3, pad: 'same' },
  { x: [2, 8, 8, 3], filter: [3, 3, 3, 2], strides: 1, pad: explicitPad },
];

const depthwiseCases: Case[] = [
  { x: [2, 9, 9, 4], filter: [3, 3, 4, 1], strides: 1, pad: 'same' },
  { x: [2, 10, 10, 4], filter: [3, 3, 4, 1], strides: 2, pad: 'same' },
  { x: [2, 9, 9, 3], filter: [3, 3, 3, 1], strides: 2, pad: 'valid' },
  { x: [2, 8, 8, 3], filter: [3, 3, 3, 2], strides: 1, pad: 'same' },
  { x: [1, 11, 11, 2], filter: [3, 3, 2, 3], strides: 2, pad: 'same' },
  { x: [2, 9, 9, 4], filter: [3, 3, 4, 1], strides: 1, pad: 'same', dilations: 2 },
  { x: [1, 12, 12, 3], filter: [5, 5, 3, 1], strides: 1, pad: 'valid', dilations: 2 },
  { x: [2, 8, 8, 3], filter: [3, 3, 3, 1], strides: 1, pad: explicitPad },
];

test('wasm gradient kernels equal the cpu backend on random inputs', async (t) => {
  assert.equal(await initBackend('wasm'), 'wasm');
  const worst: Record<string, number> = {};
  const track = (k: string, e: number) => (worst[k] = Math.max(worst[k] ?? 0, e));
  for (const c of convCases) {
    track('Conv2DBackpropFilter', await compare(t, 'Conv2DBackpropFilter', c, false));
    track('Conv2DBackpropInput', await compare(t, 'Conv2DBackpropInput', c, false));
  }
  for (const c of depthwiseCases) {
    track('DepthwiseConv2dNativeBackpropFilter', await compare(t, 'DepthwiseConv2dNativeBackpropFilter', c, true));
    track('DepthwiseConv2dNativeBackpropInput', await compare(t, 'DepthwiseConv2dNativeBackpropInput', c, true));
  }
  for (const [k, e] of Object.entries(worst)) console.log(`# ${k}: max abs error vs cpu ${e.toExponential(2)}`);
});

test('gradients through conv and depthwise layers on wasm equal the cpu backend (tf.grads end to end)', async () => {
  const x = randomArray(2 * 12 * 12 * 3, 4);
  const w1 = randomArray(3 * 3 * 3 * 6, 5);
  const w2 = randomArray(3 * 3 * 6 * 1, 6);
  const grads = async (backend: string) => {
    await tf.setBackend(backend);
    const vals = tf.tidy(() => {
      const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.depthwiseConv2d(tf.relu6(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')), c as tf.Tensor4D, 1, 'same').square().sum();
      return tf.grads(f)([tf.tensor4d(x, [2, 12, 12, 3]), tf.tensor4d(w1, [3, 3, 3, 6]), tf.tensor4d(w2, [3, 3, 6, 1])]);
    });
    const out = await Promise.all(vals.map((v) => v.data() as Promise<Float32Array>));
    tf.dispose(vals);
    return out;
  };
  const ours = await grads('wasm');
  const ref = await grads('cpu');
  await tf.setBackend('wasm');
  ours.forEach((g, i) => {
    const err = maxAbsDiff(g, ref[i]);
    console.log(`# end-to-end gradient ${['dx', 'dW conv', 'dW depthwise'][i]}: max abs error ${err.toExponential(2)} of max |g| ${maxAbs(ref[i]).toFixed(2)}`);
    assert.ok(err <= 1e-4 * Math.max(1, maxAbs(ref[i])));
  });
});

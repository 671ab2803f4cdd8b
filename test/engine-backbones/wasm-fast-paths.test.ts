// Our rerouted wasm kernels (BatchMatMul with transposes/batches, broadcast Tile, leading-axes Sum)
// against the cpu backend on random inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../packages/engine/src/runtime/backend.ts';
import { mulberry32 } from '../support/images.ts';

type Data = { shape: number[]; values: Float32Array };

const random = (shape: number[], seed: number): Data => {
  const r = mulberry32(seed);
  return { shape, values: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1) };
};

/** Runs f on both backends with the same inputs; returns the max abs difference after checking shapes. */
async function wasmVsCpu(inputs: Data[], f: (...t: tf.Tensor[]) => tf.Tensor): Promise<number> {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const out = tf.tidy(() => f(...inputs.map((d) => tf.tensor(d.values, d.shape))));
    const result = { shape: out.shape, values: (await out.data()) as Float32Array };
    out.dispose();
    return result;
  };
  const ours = await run('wasm');
  const ref = await run('cpu');
  await tf.setBackend('wasm');
  assert.deepEqual(ours.shape, ref.shape);
  return ours.values.reduce((m, v, i) => Math.max(m, Math.abs(v - ref.values[i])), 0);
}

test('wasm BatchMatMul with transposes and batch dimensions equals the cpu backend', async () => {
  assert.equal(await initBackend('wasm'), 'wasm');
  const cases: [number[], number[]][] = [
    [[5, 7], [7, 3]],
    [[4, 5, 7], [4, 7, 3]],
    [[4, 5, 7], [1, 7, 3]],
    [[1, 5, 7], [4, 7, 3]],
    [[2, 3, 5, 7], [2, 3, 7, 3]],
    [[6, 5, 7], [7, 3]],
  ];
  let worst = 0;
  for (const [sa, sb] of cases) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const shapeA = ta ? [...sa.slice(0, -2), sa.at(-1)!, sa.at(-2)!] : sa;
        const shapeB = tb ? [...sb.slice(0, -2), sb.at(-1)!, sb.at(-2)!] : sb;
        const err = await wasmVsCpu([random(shapeA, 1), random(shapeB, 2)], (a, b) => tf.matMul(a, b, ta, tb));
        worst = Math.max(worst, err);
        assert.ok(err < 1e-5, `${shapeA}·${shapeB} transposeA=${ta} transposeB=${tb}: ${err}`);
      }
    }
  }
  console.log(`# BatchMatMul: max abs error vs cpu ${worst.toExponential(2)}`);
});

test('wasm Tile (broadcast and general) and Sum (leading axes, keepDims, other axes) equal the cpu backend', async () => {
  await initBackend('wasm');
  let worst = 0;
  const check = async (inputs: Data[], f: (...t: tf.Tensor[]) => tf.Tensor, what: string) => {
    const err = await wasmVsCpu(inputs, f);
    worst = Math.max(worst, err);
    assert.ok(err < 1e-4, `${what}: ${err}`);
  };
  const x = random([4, 6, 5, 3], 3);
  await check([random([1, 1, 1, 3], 4)], (c) => tf.tile(c, [4, 6, 5, 1]), 'broadcast tile');
  await check([random([2, 1, 3], 5)], (c) => tf.tile(c, [2, 4, 2]), 'general tile');
  await check([x], (t) => tf.sum(t, [0, 1, 2]), 'sum over b,h,w');
  await check([x], (t) => tf.sum(t, [0, 1, 2], true), 'sum keepDims');
  await check([x], (t) => tf.sum(t, 0), 'sum axis 0');
  await check([x], (t) => tf.sum(t, [1, 0]), 'sum axes 1,0');
  await check([x], (t) => tf.sum(t, -1), 'sum last axis');
  await check([x], (t) => tf.sum(t), 'sum all');
  await check([x], (t) => tf.sum(t, [0, 2]), 'sum axes 0,2');
  // through a BatchNorm gradient, which uses both
  await check(
    [x, random([3], 6), random([3], 7), random([3], 8), random([3], 9)],
    (t, m, v, offset, scale) => tf.grad((u: tf.Tensor) => tf.batchNorm(u, m, tf.abs(v).add(0.5), offset, scale).square().sum())(t),
    'batchNorm gradient',
  );
  console.log(`# Tile/Sum: max abs error vs cpu ${worst.toExponential(2)}`);
});

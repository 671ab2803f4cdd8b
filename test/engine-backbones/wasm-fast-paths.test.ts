// Our wasm BatchMatMul wrapper (explicit transposes, batches folded) against the cpu backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../packages/engine/src/runtime/backend.ts';
import { mulberry32 } from '../support/images.ts';

const random = (shape: number[], seed: number) => {
  const r = mulberry32(seed);
  return { shape, values: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1) };
};

async function matMulOn(backend: string, a: { shape: number[]; values: Float32Array }, b: { shape: number[]; values: Float32Array }, ta: boolean, tb: boolean) {
  await tf.setBackend(backend);
  const out = tf.tidy(() => tf.matMul(tf.tensor(a.values, a.shape), tf.tensor(b.values, b.shape), ta, tb));
  const result = { shape: out.shape, values: (await out.data()) as Float32Array };
  out.dispose();
  return result;
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
        const a = random(shapeA, 1);
        const b = random(shapeB, 2);
        const ours = await matMulOn('wasm', a, b, ta, tb);
        const ref = await matMulOn('cpu', a, b, ta, tb);
        assert.deepEqual(ours.shape, ref.shape, `${shapeA} ${shapeB} ${ta} ${tb}`);
        const err = ours.values.reduce((m, v, i) => Math.max(m, Math.abs(v - ref.values[i])), 0);
        worst = Math.max(worst, err);
        assert.ok(err < 1e-5, `${shapeA}·${shapeB} transposeA=${ta} transposeB=${tb}: ${err}`);
      }
    }
  }
  await tf.setBackend('wasm');
  console.log(`# BatchMatMul wrapper: max abs error vs cpu ${worst.toExponential(2)}`);
});

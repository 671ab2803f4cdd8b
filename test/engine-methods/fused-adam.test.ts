// The fused Adam of the trainable blocks makes the same float32 weights as tf.train.adam, bit for bit, over steps
// whose gradients vary in sign and scale, with a weight count that is not a multiple of the kernel's 4 lanes, and
// across a weight written from outside between steps and steps where a variable has no gradient.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../packages/engine/src/runtime/backend.ts';
import { FusedAdam } from '../../packages/engine/src/methods/fused-adam.ts';
import { seededRandom } from '../../packages/engine/src/methods/seeded-random.ts';

test('FusedAdam updates weights exactly as tf.train.adam', async () => {
  await initBackend();
  const rand = seededRandom(7);
  const shapes = [[3, 5, 7], [13], [1, 1, 6, 11]];
  const start = shapes.map((s) => Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rand() - 0.5));
  const reference = shapes.map((s, i) => tf.variable(tf.tensor(start[i]!, s)));
  const fusedVars = shapes.map((s, i) => tf.variable(tf.tensor(start[i]!, s)));
  const adam: tf.Optimizer = tf.train.adam(3e-3);
  const fused = new FusedAdam(fusedVars, 3e-3);
  for (let step = 0; step < 25; step++) {
    const grads = shapes.map((s) => Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => (rand() - 0.5) * 10 ** Math.floor(rand() * 6 - 4)));
    // a variable without a gradient (one that did not reach the loss) is left as it is, moments included
    const named = (vars: tf.Variable[]): tf.NamedTensorMap => Object.fromEntries(vars.flatMap((v, i) => (step % 7 === 3 && i === 2 ? [] : [[v.name, tf.tensor(grads[i]!, shapes[i])]])));
    const a = named(reference);
    const b = named(fusedVars);
    adam.applyGradients(a);
    fused.applyGradients(b);
    tf.dispose([...Object.values(a), ...Object.values(b)]);
    // a weight written between steps (early stopping restores its best epoch) is where the next step starts
    if (step === 12) [reference, fusedVars].forEach((vars) => vars[1]!.assign(tf.fill(shapes[1]!, 0.25)));
  }
  reference.forEach((v, i) => assert.deepEqual(fusedVars[i]!.dataSync(), v.dataSync(), `variable ${i}`));
  reference.forEach((v, i) => assert.notDeepEqual(v.dataSync(), start[i], `variable ${i} moved`));
  adam.dispose();
  tf.dispose([...reference, ...fusedVars]);
});

test('FusedAdam with deferred writes: the runner reads current(), the variables change only at publish(), to the same weights', async () => {
  await initBackend();
  const rand = seededRandom(11);
  const shapes = [[2, 3, 5], [7]];
  const start = shapes.map((s) => Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rand() - 0.5));
  const reference = shapes.map((s, i) => tf.variable(tf.tensor(start[i]!, s)));
  const deferredVars = shapes.map((s, i) => tf.variable(tf.tensor(start[i]!, s)));
  const adam: tf.Optimizer = tf.train.adam(1e-2);
  const deferred = new FusedAdam(deferredVars, 1e-2, 0.9, 0.999, true);
  for (let step = 0; step < 9; step++) {
    const grads = shapes.map((s) => Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rand() - 0.5));
    const a = Object.fromEntries(reference.map((v, i) => [v.name, tf.tensor(grads[i]!, shapes[i])]));
    adam.applyGradients(a);
    tf.dispose(Object.values(a));
    // ONNX Runtime's gradients arrive as plain arrays
    const before = deferredVars.map((v) => v.dataSync().slice());
    deferred.applyGradients(Object.fromEntries(deferredVars.map((v, i) => [v.name, grads[i]!])));
    deferredVars.forEach((v, i) => assert.deepEqual(v.dataSync(), before[i], `variable ${i} untouched before publish`));
    const current = deferred.current();
    reference.forEach((v, i) => assert.deepEqual(current.get(deferredVars[i]!.name), v.dataSync(), `current() of ${i} is the stepped weight`));
    if (step % 4 === 1) deferred.publish();
    // an outside write (early stopping's restore, always after a publish) is where the next step starts
    if (step === 5) [reference, deferredVars].forEach((vars) => vars[0]!.assign(tf.fill(shapes[0]!, -0.125)));
  }
  deferred.publish();
  reference.forEach((v, i) => assert.deepEqual(deferredVars[i]!.dataSync(), v.dataSync(), `variable ${i}`));
  adam.dispose();
  tf.dispose([...reference, ...deferredVars]);
});

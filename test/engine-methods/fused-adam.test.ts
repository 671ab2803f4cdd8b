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

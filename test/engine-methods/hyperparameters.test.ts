// The defaults a user gets when sending only `method` and `dataset`, as the OpenAPI document describes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listBackbones } from '../../packages/engine/src/backbones/index.ts';
import { defaultImageSize, resolveHyperparameters } from '../../packages/engine/src/methods/hyperparameters.ts';

const backbone = (id: string) => listBackbones().find((b) => b.id === id)!;

test('default image size: the native size for feature_extraction, at most 224 px for fine_tune and multi_task, 128 px for domain_adaptation', () => {
  assert.equal(defaultImageSize(backbone('mobilenet_v2'), 'feature_extraction'), 224);
  assert.equal(defaultImageSize(backbone('inception_v3'), 'feature_extraction'), 299);
  for (const method of ['fine_tune', 'multi_task'] as const) {
    assert.equal(defaultImageSize(backbone('mobilenet_v2'), method), 224, method);
    assert.equal(defaultImageSize(backbone('inception_v3'), method), 224, method);
  }
  assert.equal(defaultImageSize(backbone('mobilenet_v2'), 'domain_adaptation'), 128);
  assert.equal(defaultImageSize(backbone('inception_v3'), 'domain_adaptation'), 128);
});

test('domain_adaptation defaults to 30 epochs at SGD rate 0.01 without early stopping; the others to 10 epochs at Adam rate 0.001', () => {
  const dann = resolveHyperparameters('domain_adaptation', undefined, 128);
  assert.deepEqual([dann.epochs, dann.learningRate, dann.earlyStoppingPatience, dann.lambda], [30, 0.01, 0, 1]);
  for (const method of ['fine_tune', 'multi_task'] as const) {
    const hp = resolveHyperparameters(method, undefined, 128);
    assert.deepEqual([hp.epochs, hp.learningRate, hp.earlyStoppingPatience], [10, 1e-3, 3], method);
  }
  // what the user sets wins
  assert.equal(resolveHyperparameters('domain_adaptation', { epochs: 5, learningRate: 0.05 }, 128).learningRate, 0.05);
});

test('feature_extraction reads every block end; fine_tune and multi_task read the frozen ones and start from the probe; DANN adds the target term', () => {
  const fe = resolveHyperparameters('feature_extraction', undefined, 224);
  assert.deepEqual([fe.features, fe.linearProbeFirst, fe.targetEntropyWeight], ['block_ends', false, 0]);
  for (const method of ['fine_tune', 'multi_task'] as const) {
    const hp = resolveHyperparameters(method, undefined, 128);
    assert.deepEqual([hp.features, hp.linearProbeFirst, hp.targetEntropyWeight], ['block_ends', true, 0], method);
    // a wholly trained network has no frozen block ends: the last layer, and a random head as before
    const all = resolveHyperparameters(method, { trainableBlocks: 'all' }, 64);
    assert.deepEqual([all.features, all.linearProbeFirst], ['last_layer', false], method);
  }
  const dann = resolveHyperparameters('domain_adaptation', undefined, 64);
  assert.deepEqual([dann.features, dann.linearProbeFirst, dann.targetEntropyWeight], ['last_layer', false, 0.3]);
  // what the user sets wins; settings a method cannot use are refused with a reason
  assert.equal(resolveHyperparameters('fine_tune', { linearProbeFirst: true }, 128).linearProbeFirst, true);
  assert.equal(resolveHyperparameters('domain_adaptation', { targetEntropyWeight: 0 }, 64).targetEntropyWeight, 0);
  assert.equal(resolveHyperparameters('feature_extraction', { features: 'last_layer' }, 224).features, 'last_layer');
  assert.equal(resolveHyperparameters('fine_tune', { linearProbeFirst: false }, 128).linearProbeFirst, false);
  assert.equal(resolveHyperparameters('fine_tune', { features: 'last_layer' }, 128).linearProbeFirst, false);
  assert.throws(() => resolveHyperparameters('domain_adaptation', { features: 'block_ends' }, 64), /domain_adaptation aligns the last layer/);
  assert.throws(() => resolveHyperparameters('fine_tune', { features: 'block_ends', trainableBlocks: 'all' }, 64), /last_layer/);
  assert.throws(() => resolveHyperparameters('domain_adaptation', { linearProbeFirst: true }, 64), /fine_tune and multi_task/);
});

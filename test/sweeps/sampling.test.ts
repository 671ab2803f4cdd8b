// packages/sweeps as pure logic: seeded sampling repeats itself, grids are complete and in order,
// random draws respect their ranges, every space name is a job hyper-parameter, ASHA's rung rule.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Hyperparameters, SearchSpace, type SweepSpec } from '@graft/spec';
import { ashaDecision, finalObjective, isRungEpoch, rankBy, sampleTrials, sweepSeed, trialJobSpec } from '@graft/sweeps';

const base = { method: 'fine_tune', dataset: { url: 'https://example.com/data.zip' } } as const;
const randomSpec = (seed?: number): SweepSpec => ({
  ...base,
  hyperparameters: { epochs: 3 },
  search: {
    algorithm: 'random',
    maxTrials: 12,
    parallelTrials: 2,
    objective: 'valAccuracy',
    ...(seed === undefined ? {} : { seed }),
    space: { learningRate: { min: 1e-4, max: 3e-3, scale: 'log' }, trainableBlocks: [1, 2, 4], batchSize: { min: 8, max: 64 }, augment: [true, false] },
  },
});

test('the same spec samples the same trials, however its keys are ordered; another seed samples others', () => {
  const spec = randomSpec();
  const reordered = JSON.parse(JSON.stringify({ search: { ...spec.search, space: Object.fromEntries(Object.entries(spec.search.space).reverse()) }, hyperparameters: spec.hyperparameters, dataset: spec.dataset, method: spec.method }));
  assert.deepEqual(sampleTrials(reordered), sampleTrials(spec));
  assert.equal(sweepSeed(reordered), sweepSeed(spec));
  assert.deepEqual(sampleTrials(randomSpec(7)), sampleTrials(randomSpec(7)));
  assert.notDeepEqual(sampleTrials(randomSpec(7)), sampleTrials(randomSpec(8)));
});

test('random draws stay in their ranges: log-scaled rates, integer batch sizes, listed values', () => {
  const trials = sampleTrials(randomSpec(3));
  assert.equal(trials.length, 12);
  for (const { values } of trials) {
    const lr = values.learningRate as number;
    assert.ok(lr >= 1e-4 && lr <= 3e-3, `${lr}`);
    assert.ok(Number.isInteger(values.batchSize) && (values.batchSize as number) >= 8 && (values.batchSize as number) <= 64);
    assert.ok([1, 2, 4].includes(values.trainableBlocks as number));
    assert.equal(typeof values.augment, 'boolean');
  }
  // log scale: about as many draws below the geometric midpoint (~5.5e-4) as above
  const below = trials.filter((t) => (t.values.learningRate as number) < Math.sqrt(1e-4 * 3e-3)).length;
  assert.ok(below >= 2 && below <= 10, `${below} of 12 below the log-midpoint`);
});

test('a grid is the cartesian product in list order, or a seeded subset of it in that order', () => {
  const grid = (maxTrials: number, seed?: number): SweepSpec => ({
    ...base,
    search: { algorithm: 'grid', maxTrials, parallelTrials: 2, objective: 'valLoss', seed, space: { learningRate: [0.01, 0.001], trainableBlocks: [1, 2] } },
  });
  assert.deepEqual(
    sampleTrials(grid(10)).map((t) => t.values),
    [
      { learningRate: 0.01, trainableBlocks: 1 },
      { learningRate: 0.01, trainableBlocks: 2 },
      { learningRate: 0.001, trainableBlocks: 1 },
      { learningRate: 0.001, trainableBlocks: 2 },
    ],
  );
  const some = sampleTrials(grid(3, 5)).map((t) => JSON.stringify(t.values));
  assert.equal(new Set(some).size, 3);
  assert.deepEqual(sampleTrials(grid(3, 5)), sampleTrials(grid(3, 5)));
});

test('a trial job is the sweep with its values on top, and a fixed seed unless the sweep sets one', () => {
  const spec: SweepSpec = {
    ...base,
    backbone: 'mobilenet_v2',
    hyperparameters: { epochs: 3 },
    search: { algorithm: 'grid', maxTrials: 4, parallelTrials: 1, objective: 'valLoss', seed: 42, space: { learningRate: [0.01] } },
  };
  const [trial] = sampleTrials(spec);
  assert.deepEqual(trialJobSpec(spec, trial), { ...base, backbone: 'mobilenet_v2', hyperparameters: { seed: 42, epochs: 3, learningRate: 0.01 } });
  const seeded = { ...spec, hyperparameters: { epochs: 3, seed: 9 } };
  assert.equal(trialJobSpec(seeded, sampleTrials(seeded)[0]).hyperparameters?.seed, 9);
  const backbones: SweepSpec = { ...base, search: { ...spec.search, space: { backbone: ['a', 'b'] } } };
  assert.deepEqual(sampleTrials(backbones).map((t) => trialJobSpec(backbones, t).backbone), ['a', 'b']);
});

test('every job hyper-parameter can be searched, and nothing else (backbone besides)', () => {
  assert.deepEqual(Object.keys(SearchSpace.properties).sort(), ['backbone', ...Object.keys(Hyperparameters.properties)].sort());
});

test('ASHA: rungs at gracePeriod·rf^k; the bottom 1 − 1/rf of a rung is pruned once rf trials are there', () => {
  const es = { gracePeriod: 2, reductionFactor: 3 };
  assert.deepEqual([1, 2, 3, 6, 12, 18].map((e) => isRungEpoch(e, es)), [false, true, false, true, false, true]);
  assert.equal(ashaDecision('valAccuracy', 2, [0.9], 0.9), 'continue', 'alone at the rung');
  assert.equal(ashaDecision('valAccuracy', 2, [0.9, 0.5], 0.5), 'prune');
  assert.equal(ashaDecision('valAccuracy', 2, [0.5, 0.9], 0.9), 'continue');
  assert.equal(ashaDecision('valLoss', 2, [0.2, 1.5], 1.5), 'prune', 'lower loss is better');
  assert.equal(ashaDecision('valAccuracy', 3, [0.9, 0.8, 0.7], 0.8), 'prune', 'only the top third goes on');
  assert.equal(ashaDecision('valAccuracy', 2, [0.8, 0.8], 0.8), 'continue', 'a tie with the kept is kept');
});

test('objectives: final accuracy from the evaluation, lowest validation loss of any epoch; ranking best first', () => {
  const epochs = [{ valLoss: 0.9, valAccuracy: 0.5 }, { valLoss: 0.4, valAccuracy: 0.8 }, { valLoss: 0.6, valAccuracy: 0.85 }];
  const evaluation = { split: 'validation', accuracy: 0.85, macroF1: 0.84, perClass: [], confusionMatrix: { labels: [], matrix: [] }, topK: {} };
  assert.equal(finalObjective('valLoss', epochs, evaluation), 0.4);
  assert.equal(finalObjective('valAccuracy', epochs, evaluation), 0.85);
  assert.equal(finalObjective('macroF1', epochs, null), null);
  assert.deepEqual(rankBy('valLoss', [{ v: 0.5 }, { v: null }, { v: 0.2 }], (x) => x.v), [{ v: 0.2 }, { v: 0.5 }, { v: null }]);
});

// Data-aware defaults: the values a user leaves out are read from the data, each with a reason, recorded in the
// checkpoint metadata; what the user sets is kept; the same seed repeats the same run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ImageDataset } from '@graft/datasets';
import { listBackbones } from '../../packages/engine/src/backbones/index.ts';
import { dataAwareDefaults, dataBackbone, explainHyperparameters, medianNativeSide, type DataProfile } from '../../packages/engine/src/methods/data-aware-defaults.ts';
import { resolveHyperparameters } from '../../packages/engine/src/methods/hyperparameters.ts';
import { train } from '../../packages/engine/src/train.ts';
import { DatasetFactory, twoClasses } from './fixtures.ts';

const mobilenet = listBackbones().find((b) => b.id === 'mobilenet_v2')!;
const profile = (nativeSide: number | null, labelledImages = 400, classes = 10, otherImages = 0): DataProfile => ({ labelledImages, otherImages, classes, nativeSide });

test('small images: DANN adapts the whole network at 64 px; fine_tune and multi_task take 224 px and 2 blocks', () => {
  const d = dataAwareDefaults('domain_adaptation', mobilenet, profile(28));
  assert.deepEqual([d.imageSize?.value, d.trainableBlocks?.value], [64, 'all']);
  assert.match(d.imageSize!.why, /28 px/);
  for (const method of ['fine_tune', 'multi_task'] as const) {
    const c = dataAwareDefaults(method, mobilenet, profile(28));
    assert.deepEqual([c.imageSize?.value, c.trainableBlocks?.value], [224, 2], method);
  }
  // mixed 28 and 64 px images (median 46) still count as small; 64 px images get the 128 px cap and 2 blocks
  const mixed = dataAwareDefaults('domain_adaptation', mobilenet, profile(46));
  assert.deepEqual([mixed.imageSize?.value, mixed.trainableBlocks?.value], [64, 'all']);
  const medium = dataAwareDefaults('domain_adaptation', mobilenet, profile(64));
  assert.deepEqual([medium.imageSize?.value, medium.trainableBlocks?.value], [128, 2]);
});

test('large images keep the 224 px cap and 2 blocks, 4 from 500 labelled images per class; feature_extraction stays native and frozen', () => {
  const large = dataAwareDefaults('fine_tune', mobilenet, profile(300));
  assert.deepEqual([large.imageSize?.value, large.trainableBlocks?.value, large.epochs?.value], [224, 2, 20]);
  const many = dataAwareDefaults('fine_tune', mobilenet, profile(300, 6000, 10));
  assert.deepEqual([many.trainableBlocks?.value, many.epochs?.value], [4, 10]);
  const unknown = dataAwareDefaults('fine_tune', mobilenet, profile(null));
  assert.deepEqual([unknown.imageSize?.value, unknown.trainableBlocks?.value], [224, 2]);
  const fe = dataAwareDefaults('feature_extraction', mobilenet, profile(28));
  assert.deepEqual([fe.imageSize?.value, fe.trainableBlocks?.value], [224, 0]);
});

test('feature_extraction, fine_tune and multi_task on few labelled images run on InceptionV3 unless the user names a backbone or an image size; DANN on MobileNetV2', () => {
  for (const method of ['feature_extraction', 'fine_tune', 'multi_task'] as const) {
    const few = dataBackbone(method, profile(28, 400, 10, method === 'multi_task' ? 1000 : 0));
    assert.equal(few.value, 'inception_v3', method);
    assert.match(few.why, /400 labelled images/, method);
    assert.equal(dataBackbone(method, profile(28, 1000)).value, 'inception_v3', method);
    assert.equal(dataBackbone(method, profile(28, 1001)).value, 'mobilenet_v2', method);
    assert.equal(dataBackbone(method, profile(28, 400), { imageSize: 32 }).value, 'mobilenet_v2', method);
  }
  assert.match(dataBackbone('fine_tune', profile(28, 400)).why, /probe this method's head starts from/);
  for (const n of [60, 400, 5000]) assert.equal(dataBackbone('domain_adaptation', profile(28, n, 10, n)).value, 'mobilenet_v2');
  // blocks trained on TF.js (a GPU worker, GRAFT_ONNX=off) cannot go through InceptionV3's scale-less BatchNorms;
  // feature_extraction trains no block and keeps it
  for (const method of ['fine_tune', 'multi_task'] as const) {
    const onTfjs = dataBackbone(method, profile(28, 400, 10, method === 'multi_task' ? 1000 : 0), {}, 'tfjs');
    assert.equal(onTfjs.value, 'mobilenet_v2', method);
    assert.match(onTfjs.why, /TF\.js/, method);
  }
  assert.equal(dataBackbone('feature_extraction', profile(28, 400), {}, 'tfjs').value, 'inception_v3');
  // feature_extraction at its native 299 px, as for any backbone it runs on; fine_tune and multi_task at the
  // 224 px cap of the gradient methods, with the last 2 blocks (mixed9, mixed10) trainable
  const inception = listBackbones().find((b) => b.id === 'inception_v3')!;
  assert.equal(dataAwareDefaults('feature_extraction', inception, profile(28, 400)).imageSize?.value, 299);
  for (const method of ['fine_tune', 'multi_task'] as const) {
    const d = dataAwareDefaults(method, inception, profile(28, 400, 10, method === 'multi_task' ? 1000 : 0));
    assert.deepEqual([d.imageSize?.value, d.trainableBlocks?.value], [224, 2], method);
  }
});

test("epochs on InceptionV3's costly blocks follow a budget of 4,000 image passes; MobileNetV2's stay at 20 / 10", () => {
  const inception = listBackbones().find((b) => b.id === 'inception_v3')!;
  const epochs = (method: 'fine_tune' | 'multi_task', labelled: number, other = 0, b = inception) => dataAwareDefaults(method, b, profile(28, labelled, 10, other)).epochs!;
  // fine_tune walks 80% of the labelled images an epoch: 320 → 12 epochs, 800 → 5
  assert.equal(epochs('fine_tune', 400).value, 12);
  assert.match(epochs('fine_tune', 400).why, /320 image passes per epoch through inception_v3/);
  assert.equal(epochs('fine_tune', 1000).value, 5);
  assert.equal(epochs('fine_tune', 100).value, 20, 'few images stay under the budget at 20');
  // multi_task walks the larger domain in both: 2 × 1,000 source images → 2 epochs
  assert.equal(epochs('multi_task', 400, 1000).value, 2);
  assert.equal(epochs('multi_task', 1000, 1000).value, 2);
  assert.equal(epochs('multi_task', 40, 5000).value, 1, 'at least one epoch');
  assert.equal(epochs('fine_tune', 400, 0, mobilenet).value, 20);
  assert.equal(epochs('fine_tune', 1000, 0, mobilenet).value, 10);
});

test('whole-network epochs follow a budget of image passes: DANN 30 on 600 + 600 digits, 15 on twice that, never below 10', () => {
  assert.equal(dataAwareDefaults('domain_adaptation', mobilenet, profile(28, 600, 10, 600)).epochs?.value, 30);
  assert.equal(dataAwareDefaults('domain_adaptation', mobilenet, profile(28, 1200, 10, 1200)).epochs?.value, 15);
  assert.equal(dataAwareDefaults('domain_adaptation', mobilenet, profile(28, 20000, 10, 20000)).epochs?.value, 10);
  // fine_tune with the whole network (asked for) walks 80% of 5,000 images an epoch: 9 by the budget, raised to
  // the floor of 10; on a cached prefix 20 epochs below 1,000 labelled images
  assert.equal(dataAwareDefaults('fine_tune', mobilenet, profile(28, 5000), { trainableBlocks: 'all' }).epochs?.value, 10);
  assert.equal(dataAwareDefaults('fine_tune', mobilenet, profile(28, 400)).epochs?.value, 20);
});

test('what the user sets is never overridden, and is explained as theirs', () => {
  const user = { imageSize: 160, trainableBlocks: 1, epochs: 3 };
  const d = dataAwareDefaults('fine_tune', mobilenet, profile(28), user);
  assert.deepEqual(Object.keys(d), []);
  const hp = resolveHyperparameters('fine_tune', { ...user }, 160);
  const why = explainHyperparameters('fine_tune', hp, user, d);
  assert.deepEqual([why.imageSize, why.trainableBlocks, why.epochs], [
    { value: 160, why: 'set by you' },
    { value: 1, why: 'set by you' },
    { value: 3, why: 'set by you' },
  ]);
  // a user's image size alone still lets the data pick the depth for that size
  assert.equal(dataAwareDefaults('domain_adaptation', mobilenet, profile(300), { imageSize: 64 }).trainableBlocks?.value, 'all');
});

let data: DatasetFactory;
let target: ImageDataset;
before(async () => {
  data = await DatasetFactory.create();
  target = await data.make({ patterns: twoClasses, perClass: 10, size: 28, seed: 31 });
});
after(() => data.cleanup());

test('train() reads the native size from the dataset, records every choice with its reason, and keeps what the user set', async () => {
  let reported: object | undefined;
  const source = await data.make({ patterns: twoClasses, perClass: 10, size: 28, seed: 32 });
  const m = await train({ method: 'domain_adaptation', target, source, hyperparameters: { epochs: 2, batchSize: 8, seed: 5 }, onHyperparameters: (c) => void (reported = c) });
  try {
    const r = m.metadata.resolvedHyperparameters!;
    assert.deepEqual(reported, r, 'the same choices are reported when training starts');
    assert.equal(m.metadata.preprocessing.imageSize, 64);
    assert.deepEqual([r.imageSize.value, r.trainableBlocks.value, r.epochs.value, r.batchSize.value, r.seed.value], [64, 'all', 2, 8, 5]);
    assert.match(r.imageSize.why, /28 px/);
    assert.equal(r.epochs.why, 'set by you');
    for (const [k, c] of Object.entries(r)) assert.ok(c.why.length > 0, `${k} has a reason`);
    // the backbone is recorded beside the hyperparameters, as the job loaded it
    const { backbone, ...hps } = r;
    assert.equal(backbone?.value, 'mobilenet_v2');
    assert.equal(m.metadata.backbone.id, 'mobilenet_v2');
    assert.deepEqual(Object.fromEntries(Object.entries(hps).map(([k, c]) => [k, c.value])), m.metadata.hyperparameters);
  } finally {
    m.dispose();
  }
});

test('the same seed repeats the same run: same choices, same metrics', async () => {
  const run = async () => {
    const m = await train({ method: 'feature_extraction', target, hyperparameters: { imageSize: 32, seed: 9 } });
    const out = { epochs: m.epochs, evaluation: m.evaluation, hp: m.metadata.resolvedHyperparameters };
    m.dispose();
    return out;
  };
  assert.deepEqual(await run(), await run());
});

test('fine_tune with linearProbeFirst starts from the linear probe and still learns', async () => {
  const m = await train({ method: 'fine_tune', target, hyperparameters: { imageSize: 32, trainableBlocks: 1, epochs: 3, batchSize: 8, seed: 2, linearProbeFirst: true } });
  try {
    assert.equal(m.metadata.resolvedHyperparameters!.linearProbeFirst.why, 'set by you');
    // the probe already separates the classes, so the first epoch starts from a trained head
    assert.ok(m.epochs[0].accuracy! >= 0.8, `first-epoch training accuracy ${m.epochs[0].accuracy}`);
    assert.ok(m.evaluation.accuracy >= 0.75, `validation accuracy ${m.evaluation.accuracy}`);
  } finally {
    m.dispose();
  }
});

test('the native side of a 28/64 px mix is the same whatever order the images come in (every recorded size counts)', async () => {
  // as an upload lists them: sorted by name, so 0.png, 1.jpg, 10.png, 100.png … no longer alternate
  const items = Array.from({ length: 1200 }, (_, i) => ({ file: `digit_${i % 10}/${i}.${i % 2 ? 'jpg' : 'png'}`, label: null, width: i % 2 ? 64 : 28, height: i % 2 ? 64 : 28 }));
  const byName = [...items].sort((a, b) => (a.file < b.file ? -1 : 1));
  assert.equal(await medianNativeSide(items), 46);
  assert.equal(await medianNativeSide(byName), 46);
  assert.deepEqual(dataAwareDefaults('domain_adaptation', mobilenet, profile(await medianNativeSide(byName))).imageSize?.value, 64);
});

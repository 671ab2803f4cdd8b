// Dumps the pooled block-end features feature_extraction's probe reads by default (InceptionV3 at 299 px), for
// offline classifier experiments such as probe_squash.py: 40 labels/class of Fashion-MNIST, MNIST digits and
// shifted (MNIST-M-style) digits per seed, as float32 rows plus a JSON of labels (not a timed test).
//   nice node --import tsx bench/engine/block-features-dump.ts [--sets fashion,digits,shifted] [--seeds 1,2,3]
//     [--per-class 40] [--out /tmp/graft-block-features]
// The frozen features come from a served feature_extraction model (its graft_block_features layer) exported to
// ONNX Runtime, on images decoded as /predict decodes them.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs';
import { exportToOnnx } from '@graft/onnx';
import type { ImageDataset } from '@graft/datasets';
import { train } from '../../packages/engine/src/train.ts';
import { decodeImage } from '../../packages/engine/src/preprocess/index.ts';
import { BLOCK_FEATURES_LAYER } from '../../packages/engine/src/backbones/block-features.ts';
import { fashionLabels, mnistMStyle, readFashionMnist, readMnistDigits, takePerClass, writeMixedDataset, type RawImages } from './bench-data.ts';

const { values: args } = parseArgs({
  options: {
    sets: { type: 'string', default: 'fashion,digits,shifted' },
    seeds: { type: 'string', default: '1,2,3' },
    'per-class': { type: 'string', default: '40' },
    out: { type: 'string', default: path.join(tmpdir(), 'graft-block-features') },
  },
});
const perClass = Number(args['per-class']);
await mkdir(args.out!, { recursive: true });
const work = await mkdtemp(path.join(tmpdir(), 'graft-bench-dump-'));
const fashion = await readFashionMnist('train');
const digits = readMnistDigits();
const digitNames = Array.from({ length: 10 }, (_, i) => `d${i}`);
const sets: Record<string, { names: string[]; raw: (seed: number) => RawImages }> = {
  fashion: { names: fashionLabels, raw: (seed) => takePerClass(fashion, perClass, seed) },
  digits: { names: digitNames, raw: (seed) => takePerClass(digits, perClass, seed) },
  shifted: { names: digitNames, raw: (seed) => mnistMStyle(takePerClass(digits, perClass, seed), seed + 10) },
};

// the default feature_extraction model on a handful of images: only its frozen backbone cut is used
const tiny = await writeMixedDataset(takePerClass(fashion, 3, 1), fashionLabels, path.join(work, 'tiny'));
const m = await train({ method: 'feature_extraction', target: tiny, hyperparameters: { seed: 1, flipViews: false } });
const cut = tf.model({ inputs: m.model.inputs, outputs: m.model.getLayer(BLOCK_FEATURES_LAYER).output as tf.SymbolicTensor });
const session = await ort.InferenceSession.create(exportToOnnx(cut), { intraOpNumThreads: 2 });
const { preprocessing } = m.metadata;
const s = preprocessing.imageSize;

async function features(ds: ImageDataset): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  for (let i = 0; i < ds.items.length; i += 32) {
    const batch = ds.items.slice(i, i + 32);
    const flat = new Float32Array(batch.length * s * s * 3);
    (await Promise.all(batch.map((it) => decodeImage(it.file, preprocessing)))).forEach((p, j) => flat.set(p, j * s * s * 3));
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', flat, [batch.length, s, s, 3]) });
    parts.push((out[session.outputNames[0]].data as Float32Array).slice());
  }
  const x = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  parts.reduce((off, p) => (x.set(p, off), off + p.length), 0);
  return x;
}

for (const name of args.sets!.split(',')) {
  for (const seed of args.seeds!.split(',').map(Number)) {
    const t0 = performance.now();
    const ds = await writeMixedDataset(sets[name].raw(seed), sets[name].names, path.join(work, `${name}-${seed}`));
    const file = path.join(args.out!, `${name}-${seed}`);
    await writeFile(`${file}.f32`, await features(ds));
    await writeFile(`${file}.json`, JSON.stringify({ n: ds.items.length, d: cut.outputs[0].shape[1], labels: ds.items.map((it) => ds.labels.indexOf(it.label!)) }));
    console.log(`${name} seed ${seed}: ${ds.items.length} images in ${((performance.now() - t0) / 1000).toFixed(0)} s -> ${file}.f32`);
  }
}
m.dispose();
await session.release();
await rm(work, { recursive: true, force: true });

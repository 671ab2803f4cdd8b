// The engine's activation cache with the frozen prefix on ONNX Runtime (the spec built by
// onnxPrefixRunnerSpec, opened in each worker thread) gives the same cached activations as its TF.js
// path, on real image files, with augmented views (max abs diff ≤ 1e-4).
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { onnxPrefixRunnerSpec } from '@graft/onnx';
import { computePrefixActivations } from '../../packages/engine/src/activations/index.ts';
import { loadBackbone } from '../../packages/engine/src/backbones/index.ts';
import { writeImageFolder } from '../support/images.ts';

test('prefix activations cached through ONNX Runtime worker threads match the TF.js cache', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'graft-onnx-cache-'));
  const backbone = await loadBackbone('mobilenet_v2', { imageSize: 64 });
  try {
    await writeImageFolder(root, { perClass: 3, size: 64 });
    const files = (await readdir(root, { recursive: true })).filter((f) => f.endsWith('.png')).map((f) => path.join(root, f));
    const { prefix } = backbone.split(2);
    assert.ok(prefix);
    const spec = await onnxPrefixRunnerSpec(prefix, { workers: 2 });
    assert.ok(spec, 'the MobileNetV2 prefix exports and ONNX Runtime opens it');
    const common = { prefix, files, preprocessing: { imageSize: 64, pixelRange: [0, 1] as [number, number], resize: 'cover' as const }, augmentViews: 1, seed: 3, batchSize: 2, threads: 2 };
    const viaOnnx = await computePrefixActivations({ ...common, runner: spec });
    const viaTfjs = await computePrefixActivations({ ...common, threads: 1 });
    assert.deepEqual(viaOnnx.shape, viaTfjs.shape);
    assert.equal(viaOnnx.views.length, 2);
    let maxDiff = 0;
    viaTfjs.views.forEach((view, v) => view.forEach((x, k) => (maxDiff = Math.max(maxDiff, Math.abs(x - viaOnnx.views[v][k])))));
    assert.ok(maxDiff <= 1e-4, `max abs difference ${maxDiff}`);
  } finally {
    backbone.dispose();
    await rm(root, { recursive: true, force: true });
  }
});

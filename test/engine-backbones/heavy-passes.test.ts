// Which runner trains where: a GPU worker (tfjs-node-gpu) runs the prefix and the suffix on TF.js's CUDA kernels,
// every other backend on ONNX Runtime's CPU provider (TF.js when switched off). No GPU here: the choice is
// tested for each backend, and this machine's own choice is checked end to end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseHeavyPasses, heavyPasses, nativeTfjsPackage } from '../../packages/engine/src/index.ts';

test('tfjs-node-gpu: TF.js kernels on the GPU, the prefix in the job thread', () => {
  const c = chooseHeavyPasses('tensorflow', '@tensorflow/tfjs-node-gpu', {});
  assert.deepEqual({ runner: c.runner, gpu: c.gpu, prefixThreads: c.prefixThreads }, { runner: 'tfjs', gpu: true, prefixThreads: 1 });
  assert.match(c.reason, /CUDA/);
  // a GPU wins over GRAFT_ONNX: the TF.js path is what it selects anyway
  assert.equal(chooseHeavyPasses('tensorflow', '@tensorflow/tfjs-node-gpu', { GRAFT_ONNX: 'off' }).gpu, true);
});

test('tfjs-node (CPU), wasm and cpu: ONNX Runtime on the CPU, one prefix thread per core', () => {
  for (const [backend, pkg] of [['tensorflow', '@tensorflow/tfjs-node'], ['wasm', null], ['cpu', null]] as const) {
    const c = chooseHeavyPasses(backend, pkg, {});
    assert.deepEqual({ runner: c.runner, gpu: c.gpu, prefixThreads: c.prefixThreads }, { runner: 'onnxruntime', gpu: false, prefixThreads: null }, backend);
  }
});

test('GRAFT_ONNX=off without a GPU: TF.js on the CPU', () => {
  const c = chooseHeavyPasses('wasm', null, { GRAFT_ONNX: 'off' });
  assert.deepEqual({ runner: c.runner, gpu: c.gpu }, { runner: 'tfjs', gpu: false });
});

test('this machine (no tfjs-node installed): wasm, so ONNX Runtime on the CPU', async () => {
  const c = await heavyPasses();
  assert.equal(nativeTfjsPackage(), null);
  assert.equal(c.runner, process.env.GRAFT_ONNX === 'off' ? 'tfjs' : 'onnxruntime');
  assert.equal(c.gpu, false);
});

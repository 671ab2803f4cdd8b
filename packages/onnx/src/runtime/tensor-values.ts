// A float32 tf.js tensor's values without a copy where the wasm backend keeps them (its heap, where its readSync
// reads them), else dataSync()'s copy. A view is valid only until the next TF.js op (a malloc may grow the heap and
// move it), so callers copy it at once into memory of their own. Training steps read ~3.5 MB of weights and as
// many gradients (fine_tune's two MobileNetV2 blocks): dataSync's fresh arrays cost 1.5–4 CPU ms each, most of it
// allocating and collecting them.
import * as tf from '@tensorflow/tfjs';

interface WasmBackendInternals {
  wasm?: { HEAPU8: Uint8Array };
  dataIdMap?: { get(id: object): { memoryOffset: number | null } | undefined };
}

export function float32Values(t: tf.Tensor): Float32Array {
  if (tf.getBackend() === 'wasm' && t.dtype === 'float32') {
    const backend = tf.backend() as unknown as WasmBackendInternals;
    const at = backend.dataIdMap?.get(t.dataId)?.memoryOffset;
    if (backend.wasm && typeof at === 'number') return new Float32Array(backend.wasm.HEAPU8.buffer, at, t.size);
  }
  return t.dataSync() as Float32Array;
}

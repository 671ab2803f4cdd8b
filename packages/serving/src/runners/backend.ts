// Each inference thread has its own TF.js; pick its backend the way the engine does for training.
import * as tf from '@tensorflow/tfjs';

export async function initThreadBackend(preferred: string | undefined): Promise<string> {
  if (!preferred || preferred === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  const wanted = preferred ?? 'wasm';
  if (!(await tf.setBackend(wanted))) throw new Error(`TF.js backend ${wanted} is not available`);
  await tf.ready();
  return tf.getBackend();
}

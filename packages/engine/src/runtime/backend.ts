// Picks the TF.js backend once per process (and once per worker thread): native TensorFlow when a
// tfjs-node package is installed (production images), else wasm with our gradient kernels, with the
// pure-JS cpu backend only when asked for. TFJS_BACKEND overrides the automatic choice.
import * as tf from '@tensorflow/tfjs';
import { engineLog } from './log.ts';
import { registerWasmGradientKernels } from './wasm-gradients.ts';
import { registerWasmFastPaths } from './wasm-fast-paths.ts';
import { chooseHeavyPasses, type HeavyPasses } from './heavy-passes.ts';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

let chosen: Promise<BackendName> | null = null;
/** the tfjs-node package that provides the 'tensorflow' backend, once one loaded */
let nativePackage: string | null = null;

/** Which native TF.js package is in use ('@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'), or null. */
export function nativeTfjsPackage(): string | null {
  return nativePackage;
}

/** Native bindings register the 'tensorflow' backend on import; they are optional dependencies. */
async function tryNative(pkg: string): Promise<boolean> {
  try {
    await import(pkg);
    return tf.findBackend('tensorflow') != null && (await tf.setBackend('tensorflow'));
  } catch {
    return false;
  }
}

async function useWasm(): Promise<boolean> {
  await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend('wasm'))) return false;
  registerWasmGradientKernels();
  registerWasmFastPaths();
  return true;
}

async function select(preferred: string | undefined): Promise<BackendName> {
  const wanted = (preferred ?? process.env.TFJS_BACKEND ?? '').trim().toLowerCase();
  if (wanted && !['tensorflow', 'wasm', 'cpu'].includes(wanted)) {
    throw new Error(`TFJS_BACKEND=${wanted} is not one of tensorflow, wasm, cpu`);
  }
  if (wanted === 'cpu') {
    await tf.setBackend('cpu');
    return 'cpu';
  }
  if (wanted === '' || wanted === 'tensorflow') {
    for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      if (await tryNative(pkg)) {
        nativePackage = pkg;
        return 'tensorflow';
      }
    }
    if (wanted === 'tensorflow') engineLog.warn('TFJS_BACKEND=tensorflow but no tfjs-node package loads; falling back to wasm');
  }
  if (await useWasm()) return 'wasm';
  engineLog.warn('wasm backend failed to initialise; using the slow cpu backend');
  await tf.setBackend('cpu');
  return 'cpu';
}

/** Initialises the backend once; later calls return the same choice. Logged with the reason. */
export async function initBackend(preferred?: string): Promise<BackendName> {
  chosen ??= select(preferred).then(async (name) => {
    await tf.ready();
    const heavy = chooseHeavyPasses(name, nativePackage);
    engineLog.info({ backend: name, native: nativePackage, requested: preferred ?? process.env.TFJS_BACKEND ?? 'auto' }, `TF.js backend: ${name}`);
    engineLog.info({ heavyPasses: heavy.runner, gpu: heavy.gpu }, `training's heavy passes: ${heavy.reason}`);
    return name;
  });
  return chosen;
}

/** Where training's heavy passes run in this process (see heavy-passes.ts); initialises the backend first. */
export async function heavyPasses(): Promise<HeavyPasses> {
  return chooseHeavyPasses(await initBackend(), nativePackage);
}

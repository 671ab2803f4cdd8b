// Where the heavy passes of training run — the frozen prefix over every image and the trainable suffix forward
// and backward — chosen once per process from the TF.js backend that loaded, and logged.
//  - tfjs-node-gpu loaded: TF.js native kernels, i.e. TensorFlow's CUDA kernels on the GPU. Not onnxruntime-node's
//    CUDA execution provider: the TF.js paths of both passes already exist (the GRAFT_ONNX=off path, gradients by
//    TF.js autodiff), and a GPU image carries one CUDA stack: tfjs-node-gpu 4.22 links libtensorflow 2.9.1 (CUDA
//    11.2, cuDNN 8.1) while onnxruntime-node's CUDA EP wants CUDA 12 / cuDNN 9 and downloads its own libraries at
//    install time. The prefix then runs in the job's thread (one TensorFlow runtime per process drives the GPU;
//    sharp still decodes the next batch on its own threads meanwhile).
//  - otherwise (wasm, tfjs-node on CPU): ONNX Runtime's CPU provider, which beats TF.js on CPU (bench/onnx);
//    TF.js when ONNX Runtime is missing or switched off (GRAFT_ONNX=off), as each runner logs.
import type { BackendName } from './backend.ts';

export interface HeavyPasses {
  /** 'onnxruntime': ONNX Runtime (CPU provider) where it loads; 'tfjs': TF.js kernels of the chosen backend */
  runner: 'onnxruntime' | 'tfjs';
  /** true when those kernels are a GPU's */
  gpu: boolean;
  /** prefix worker threads; null = one per core (fewer for small sets) */
  prefixThreads: number | null;
  reason: string;
}

/** The choice for a backend and the native package that provides it (null for wasm/cpu). */
export function chooseHeavyPasses(backend: BackendName, nativePackage: string | null, env: { GRAFT_ONNX?: string } = process.env): HeavyPasses {
  if (backend === 'tensorflow' && nativePackage === '@tensorflow/tfjs-node-gpu') {
    return { runner: 'tfjs', gpu: true, prefixThreads: 1, reason: 'tfjs-node-gpu loaded: the prefix and the suffix run on TensorFlow CUDA kernels' };
  }
  if (env.GRAFT_ONNX === 'off') return { runner: 'tfjs', gpu: false, prefixThreads: null, reason: `GRAFT_ONNX=off: TF.js (${backend}) on the CPU` };
  return { runner: 'onnxruntime', gpu: false, prefixThreads: null, reason: `no GPU backend (TF.js ${backend}): ONNX Runtime on the CPU` };
}

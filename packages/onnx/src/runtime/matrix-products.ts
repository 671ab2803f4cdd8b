// The two products a linear classifier's fit repeats hundreds of times on one fixed feature matrix X [n × d]:
// X·W and Xᵀ·G for thin W [d × k], G [n × k]. ONNX Runtime's MLAS runs them at memory speed: 1.4 / 2.0 ms for
// 1600 × 1280 × 10 on one thread against 11–23 ms for TF.js wasm's matMul here; null when the runtime is
// unavailable (the caller then uses TF.js). One intra-op thread by default: the products are memory-bound and
// two threads were slower (4.0 / 4.9 ms) on these 2 shared cores.
import { encodeModel, DataType, AttributeType, type ModelMessage } from '../onnx-proto.ts';
import { loadOrt, type OnnxLogger } from './ort-session.ts';

export interface MatrixProducts {
  /** X·W, W [d × k] row-major -> [n × k] */
  times(w: Float32Array, k: number): Promise<Float32Array>;
  /** Xᵀ·G, G [n × k] row-major -> [d × k] */
  transposeTimes(g: Float32Array, k: number): Promise<Float32Array>;
  dispose(): Promise<void>;
}

const matrix = (name: string, rows: string, cols: string) => ({
  name,
  type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimParam: rows }, { dimParam: cols }] } } },
});

/** One Gemm with symbolic sizes, so a model serves any n, d, k: y = op(a)·b. */
function gemmModel(transA: boolean): Uint8Array {
  const model: ModelMessage = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'graft',
    producerVersion: '0.1.0',
    graph: {
      name: transA ? 'xt_times' : 'x_times',
      node: [
        {
          name: 'gemm',
          opType: 'Gemm',
          input: ['a', 'b'],
          output: ['y'],
          attribute: [{ name: 'transA', type: AttributeType.INT, i: transA ? 1 : 0 }],
        },
      ],
      initializer: [],
      input: [matrix('a', 'n', 'd'), matrix('b', transA ? 'n' : 'd', 'k')],
      output: [matrix('y', transA ? 'd' : 'n', 'k')],
    },
  };
  return encodeModel(model);
}

export async function createMatrixProducts(x: Float32Array, n: number, d: number, opts: { threads?: number; logger?: OnnxLogger } = {}): Promise<MatrixProducts | null> {
  const ort = await loadOrt(opts.logger);
  if (!ort) return null;
  const options = { intraOpNumThreads: opts.threads ?? 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' as const };
  const [plain, transposed] = await Promise.all([ort.InferenceSession.create(gemmModel(false), options), ort.InferenceSession.create(gemmModel(true), options)]);
  const X = new ort.Tensor('float32', x, [n, d]);
  const run = async (session: typeof plain, b: Float32Array, rows: number, k: number) => {
    const out = await session.run({ a: X, b: new ort.Tensor('float32', b, [rows, k]) });
    return out.y.data as Float32Array;
  };
  return {
    times: (w, k) => run(plain, w, d, k),
    transposeTimes: (g, k) => run(transposed, g, n, k),
    dispose: async () => {
      await Promise.all([plain.release(), transposed.release()]);
    },
  };
}

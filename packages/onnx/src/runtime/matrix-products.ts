// The two products a linear classifier's fit repeats hundreds of times on one fixed feature matrix X [n × d]:
// X·W and Xᵀ·G for thin W [d × k], G [n × k]. ONNX Runtime's MLAS runs them at memory speed; null when the
// runtime is unavailable (the caller then uses TF.js). Xᵀ·G runs as (Gᵀ·X)ᵀ, one plain Gemm on the same X:
// Gemm's transA on X cost 7.1 CPU ms for 1600 × 2784 × 10 against 3.5 for Gᵀ·X (and 1.5 for X·W), and the
// two k-row transposes in JS are 10⁴ copies. One intra-op thread by default: the products are memory-bound and
// two threads were slower on these 2 shared cores.
import { encodeModel, DataType, type ModelMessage } from '../onnx-proto.ts';
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

/** One Gemm with symbolic sizes, so a model serves any n, d, k: y = a·b. */
function gemmModel(): Uint8Array {
  const model: ModelMessage = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'graft',
    producerVersion: '0.1.0',
    graph: {
      name: 'times',
      node: [{ name: 'gemm', opType: 'Gemm', input: ['a', 'b'], output: ['y'], attribute: [] }],
      initializer: [],
      input: [matrix('a', 'm', 'inner'), matrix('b', 'inner', 'cols')],
      output: [matrix('y', 'm', 'cols')],
    },
  };
  return encodeModel(model);
}

export async function createMatrixProducts(x: Float32Array, n: number, d: number, opts: { threads?: number; logger?: OnnxLogger } = {}): Promise<MatrixProducts | null> {
  const ort = await loadOrt(opts.logger);
  if (!ort) return null;
  const options = { intraOpNumThreads: opts.threads ?? 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' as const };
  const session = await ort.InferenceSession.create(gemmModel(), options);
  const X = new ort.Tensor('float32', x, [n, d]);
  const run = async (a: InstanceType<typeof ort.Tensor>, b: InstanceType<typeof ort.Tensor>) => (await session.run({ a, b })).y.data as Float32Array;
  return {
    times: (w, k) => run(X, new ort.Tensor('float32', w, [d, k])),
    async transposeTimes(g, k) {
      const gt = new Float32Array(k * n);
      for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) gt[c * n + i] = g[i * k + c];
      const yt = await run(new ort.Tensor('float32', gt, [k, n]), X);
      const y = new Float32Array(d * k);
      for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) y[j * k + c] = yt[c * d + j];
      return y;
    },
    dispose: () => session.release(),
  };
}

// Three wasm kernels of TF.js 4.22 that are slow in exactly the cases training hits, rerouted to fast
// ones (profiled on a whole-network MobileNetV2 step at 96 px):
// - BatchMatMul is fast (XNNPACK) only for one un-transposed pair; transposeA/B or a batch dimension
//   take a naive loop, 7–18× slower (a Dense layer's dW = Xᵀ·dY, dX = dY·Wᵀ): transpose explicitly,
//   fold batches into one plain matmul.
// - Tile, used by BatchNorm's gradient to broadcast [1,1,1,C] to the activation's shape, was 38 % of
//   the step: a pure broadcast becomes an Add onto zeros (SIMD broadcasting).
// - Sum over the leading axes (BatchNorm and bias gradients reduce [b,h,w]) transposes first: it becomes
//   ones[1,N]·X[N,C], ~10× faster.
import * as tf from '@tensorflow/tfjs';

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Last two axes swapped, as a copy. */
function swapLast(t: tf.Tensor3D): tf.Tensor3D {
  return tf.transpose(t, [0, 2, 1]);
}

function fastMatMul(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor {
  const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batchA = size(a.shape.slice(0, -2));
  const batchB = size(b.shape.slice(0, -2));
  let a3 = a.reshape([batchA, a.shape[a.rank - 2], a.shape[a.rank - 1]]) as tf.Tensor3D;
  let b3 = b.reshape([batchB, b.shape[b.rank - 2], b.shape[b.rank - 1]]) as tf.Tensor3D;
  if (transposeA) a3 = swapLast(a3);
  if (transposeB) b3 = swapLast(b3);
  const [, m, k] = a3.shape;
  const n = b3.shape[2];
  let out: tf.Tensor;
  if (batchB === 1) {
    // rows of every A batch against one B: a single [batchA·m, k] × [k, n] product
    out = tf.matMul(a3.reshape([batchA * m, k]), b3.reshape([k, n]));
  } else if (batchA === 1) {
    // one A against every B: [m, k] × [k, batchB·n], then batches back to the front
    const bWide = tf.transpose(b3, [1, 0, 2]).reshape([k, batchB * n]);
    out = tf.transpose(tf.matMul(a3.reshape([m, k]), bWide).reshape([m, batchB, n]), [1, 0, 2]);
  } else {
    const as = tf.unstack(a3);
    const bs = tf.unstack(b3);
    out = tf.stack(as.map((ai, i) => tf.matMul(ai, bs[i])));
  }
  return out.reshape([...outBatch, m, n]);
}

/** Tile that only repeats size-1 axes is a broadcast. */
function isBroadcast(x: tf.Tensor, reps: number[]): boolean {
  return reps.every((r, i) => r === 1 || x.shape[i] === 1);
}

/** The reduced axes are exactly the first k axes (k < rank). */
function leadingAxes(x: tf.Tensor, axis: number | number[]): number {
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  return axes.every((a, i) => a === i) && axes.length < x.rank ? axes.length : 0;
}

type Override = (args: { inputs: tf.NamedTensorMap; attrs: Record<string, unknown> }) => tf.Tensor | null;

const overrides: Record<string, Override> = {
  BatchMatMul: ({ inputs: { a, b }, attrs }) => {
    const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB && size(a.shape.slice(0, -2)) === 1 && size(b.shape.slice(0, -2)) === 1) return null;
    return fastMatMul(a, b, transposeA, transposeB);
  },
  Tile: ({ inputs: { x }, attrs }) => {
    const reps = attrs.reps as number[];
    if (x.dtype !== 'float32' || !isBroadcast(x, reps)) return null;
    return tf.add(x, tf.zeros(x.shape.map((d, i) => d * reps[i])));
  },
  Sum: ({ inputs: { x }, attrs }) => {
    const k = x.dtype === 'float32' ? leadingAxes(x, attrs.axis as number | number[]) : 0;
    if (k === 0) return null;
    const rows = size(x.shape.slice(0, k));
    const rest = x.shape.slice(k);
    const sum = tf.matMul(tf.ones([1, rows]), x.reshape([rows, size(rest)]));
    return sum.reshape(attrs.keepDims ? [...x.shape.slice(0, k).map(() => 1), ...rest] : rest);
  },
};

let registered = false;

/** Wraps the wasm kernels above (idempotent); every other case goes straight to the original kernel. */
export function registerWasmFastPaths(): void {
  if (registered) return;
  registered = true;
  for (const [kernelName, override] of Object.entries(overrides)) {
    const original = tf.getKernel(kernelName, 'wasm');
    if (!original) continue;
    tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({
      ...original,
      kernelFunc: (args) => {
        const fast = tf.tidy(() => override(args as never) ?? undefined) as tf.Tensor | undefined;
        return fast ?? original.kernelFunc(args);
      },
    });
  }
}

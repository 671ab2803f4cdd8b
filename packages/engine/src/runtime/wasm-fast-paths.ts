// TF.js wasm's BatchMatMul is fast (XNNPACK) only for one un-transposed matrix pair; with transposeA,
// transposeB or a batch dimension it takes a naive loop that measured 7–18× slower here. Gradients
// hit exactly those cases (a Dense layer's dW = Xᵀ·dY, dX = dY·Wᵀ; our 1×1 conv filter gradient), so this
// wrapper transposes explicitly (wasm's Transpose is fast) and folds batches into one plain matmul
// before handing over to the original kernel.
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

let registered = false;

/** Replaces wasm's BatchMatMul with the wrapper (idempotent). Plain single matmuls go straight through. */
export function registerWasmMatMul(): void {
  if (registered) return;
  const original = tf.getKernel('BatchMatMul', 'wasm');
  if (!original) return;
  registered = true;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({
    ...original,
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: tf.Tensor; b: tf.Tensor };
      const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
      if (!transposeA && !transposeB && size(a.shape.slice(0, -2)) === 1 && size(b.shape.slice(0, -2)) === 1) return original.kernelFunc(args);
      return tf.tidy(() => fastMatMul(a, b, transposeA, transposeB));
    },
  });
}

// The wasm backend of TF.js 4.22 has no Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter or
// DepthwiseConv2dNativeBackpropInput, so any conv layer fails to train on it. These kernels compose the
// three gradients from ops wasm does have (StridedSlice, PadV2, BatchMatMul, DepthwiseConv2dNative,
// Multiply, Sum). A kernel may return a tf.Tensor (the engine accepts it as the output as is) and runs
// with the tape off, so calling tf ops inside is safe; tidy() frees the intermediates.
import * as tf from '@tensorflow/tfjs';

type Conv2DInfo = tf.backend_util.Conv2DInfo;
type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
type Pair = [number, number] | number;

interface BackpropFilterAttrs {
  strides: Pair;
  pad: Pad;
  dilations?: Pair;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}
interface DepthwiseBackpropInputAttrs {
  strides: Pair;
  pad: Pad;
  dilations: Pair;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

/** x zero-padded as the forward conv saw it. */
function padLikeForward(x: tf.Tensor4D, info: Conv2DInfo): tf.Tensor4D {
  const { top, bottom, left, right } = info.padInfo;
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return x;
  return tf.pad(x, [[0, 0], [Math.max(0, top), Math.max(0, bottom)], [Math.max(0, left), Math.max(0, right)], [0, 0]]);
}

/** The input window that filter tap (fh, fw) multiplied, one entry per output position: [b, outH, outW, c]. */
function tapWindow(xPadded: tf.Tensor4D, info: Conv2DInfo, fh: number, fw: number): tf.Tensor4D {
  const y0 = fh * info.dilationHeight;
  const x0 = fw * info.dilationWidth;
  return tf.stridedSlice(
    xPadded,
    [0, y0, x0, 0],
    [info.batchSize, y0 + (info.outHeight - 1) * info.strideHeight + 1, x0 + (info.outWidth - 1) * info.strideWidth + 1, info.inChannels],
    [1, info.strideHeight, info.strideWidth, 1],
  ) as tf.Tensor4D;
}

/** dW[fh,fw,ci,co] = Σ_{b,oy,ox} Xpad[b, oy·sh+fh, ox·sw+fw, ci] · dY[b,oy,ox,co]: one im2col matmul. */
export function conv2dBackpropFilter(x: tf.Tensor4D, dy: tf.Tensor4D, attrs: BackpropFilterAttrs): tf.Tensor4D {
  if (attrs.dataFormat === 'NCHW') throw new Error('conv2dBackpropFilter on wasm supports NHWC only');
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(x.shape, attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false);
    const rows = info.batchSize * info.outHeight * info.outWidth;
    const dy2 = dy.reshape([rows, info.outChannels]);
    if (info.filterHeight === 1 && info.filterWidth === 1 && info.strideHeight === 1 && info.strideWidth === 1 && x.shape[1] === info.outHeight) {
      // 1×1 stride-1 conv: X^T·dY directly, no copy of X.
      return tf.matMul(x.reshape([rows, info.inChannels]), dy2, true, false).reshape(attrs.filterShape) as tf.Tensor4D;
    }
    const xp = padLikeForward(x, info);
    const cols: tf.Tensor[] = [];
    for (let fh = 0; fh < info.filterHeight; fh++) {
      for (let fw = 0; fw < info.filterWidth; fw++) cols.push(tapWindow(xp, info, fh, fw).reshape([rows, info.inChannels]));
    }
    const im2col = cols.length === 1 ? cols[0] : tf.concat(cols, 1);
    return tf.matMul(im2col, dy2, true, false).reshape(attrs.filterShape) as tf.Tensor4D;
  });
}

/** dW[fh,fw,c,m] = Σ_{b,oy,ox} Xpad[b, oy·sh+fh·dh, ox·sw+fw·dw, c] · dY[b,oy,ox,c·M+m], per tap a multiply-sum. */
export function depthwiseBackpropFilter(x: tf.Tensor4D, dy: tf.Tensor4D, attrs: BackpropFilterAttrs): tf.Tensor4D {
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(x.shape, attrs.filterShape, attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode, true);
    const [, , channels, multiplier] = attrs.filterShape;
    const xp = padLikeForward(x, info);
    const dy5 = dy.reshape([info.batchSize, info.outHeight, info.outWidth, channels, multiplier]);
    const taps: tf.Tensor[] = [];
    for (let fh = 0; fh < info.filterHeight; fh++) {
      for (let fw = 0; fw < info.filterWidth; fw++) {
        const win = tapWindow(xp, info, fh, fw).reshape([info.batchSize, info.outHeight, info.outWidth, channels, 1]);
        taps.push(tf.sum(tf.mul(win, dy5), [0, 1, 2]));
      }
    }
    return tf.stack(taps).reshape(attrs.filterShape) as tf.Tensor4D;
  });
}

/**
 * dX of a depthwise conv = a stride-1 depthwise conv of dY (zeros inserted between rows/columns for the
 * stride, padded) with the spatially flipped filter and the same dilation — so it runs on wasm's own
 * depthwise kernel. For channel multiplier M > 1 each of the C·M channels is convolved, then summed per input channel.
 */
export function depthwiseBackpropInput(dy: tf.Tensor4D, filter: tf.Tensor4D, attrs: DepthwiseBackpropInputAttrs): tf.Tensor4D {
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(attrs.inputShape, filter.shape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true);
    const [kh, kw, channels, multiplier] = filter.shape;
    const { batchSize: b, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
    const [, inH, inW] = attrs.inputShape;
    const cm = channels * multiplier;
    // Dilate dY by the stride: [b, oh, 1, ow, 1, cm] padded to [b, oh, sh, ow, sw, cm], trailing zeros cut.
    let u: tf.Tensor4D = dy;
    if (sh > 1 || sw > 1) {
      const spread = tf.pad(dy.reshape([b, oh, 1, ow, 1, cm]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
      u = spread.reshape<tf.Tensor4D>([b, oh * sh, ow * sw, cm]).slice([0, 0, 0, 0], [b, (oh - 1) * sh + 1, (ow - 1) * sw + 1, cm]);
    }
    const padTop = (kh - 1) * dh - info.padInfo.top;
    const padLeft = (kw - 1) * dw - info.padInfo.left;
    const padBottom = inH + info.padInfo.top - ((oh - 1) * sh + 1);
    const padRight = inW + info.padInfo.left - ((ow - 1) * sw + 1);
    u = tf.pad(u, [[0, 0], [Math.max(0, padTop), Math.max(0, padBottom)], [Math.max(0, padLeft), Math.max(0, padRight)], [0, 0]]);
    if (padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0) {
      const top = Math.max(0, -padTop);
      const left = Math.max(0, -padLeft);
      u = u.slice([0, top, left, 0], [b, u.shape[1] - top - Math.max(0, -padBottom), u.shape[2] - left - Math.max(0, -padRight), cm]);
    }
    const flipped = tf.reverse(filter, [0, 1]).reshape([kh, kw, cm, 1]) as tf.Tensor4D;
    const dx = tf.depthwiseConv2d(u, flipped, 1, 'valid', 'NHWC', [dh, dw]);
    return (multiplier === 1 ? dx : dx.reshape([b, inH, inW, channels, multiplier]).sum(4)) as tf.Tensor4D;
  });
}

let registered = false;

/** Registers the three kernels for the wasm backend (idempotent). */
export function registerWasmGradientKernels(): void {
  if (registered) return;
  registered = true;
  const asAttrs = <T>(a: unknown) => a as T;
  const kernels: [string, tf.KernelFunc][] = [
    ['Conv2DBackpropFilter', ({ inputs, attrs }) => conv2dBackpropFilter(inputs.x as tf.Tensor4D, inputs.dy as tf.Tensor4D, asAttrs<BackpropFilterAttrs>(attrs))],
    ['DepthwiseConv2dNativeBackpropFilter', ({ inputs, attrs }) => depthwiseBackpropFilter(inputs.x as tf.Tensor4D, inputs.dy as tf.Tensor4D, asAttrs<BackpropFilterAttrs>(attrs))],
    ['DepthwiseConv2dNativeBackpropInput', ({ inputs, attrs }) => depthwiseBackpropInput(inputs.dy as tf.Tensor4D, inputs.filter as tf.Tensor4D, asAttrs<DepthwiseBackpropInputAttrs>(attrs))],
  ];
  for (const [kernelName, kernelFunc] of kernels) {
    if (!tf.getKernel(kernelName, 'wasm')) tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
}

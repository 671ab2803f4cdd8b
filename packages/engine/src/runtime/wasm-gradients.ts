// The wasm backend of TF.js 4.22 has no Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter or
// DepthwiseConv2dNativeBackpropInput, so any conv layer fails to train on it. These kernels compose the
// three gradients (and replace its slow Conv2DBackpropInput) from ops wasm runs natively (PadV2, Transpose, BatchMatMul, Conv2D,
// DepthwiseConv2dNative): each gradient is rewritten as one convolution or matmul, not per-tap loops
// (an earlier per-tap StridedSlice/Mul/Sum version was 3–30× slower). A kernel may return a tf.Tensor (the engine accepts it as the output as is) and runs
// with the tape off, so calling tf ops inside is safe; tidy() frees the intermediates.
import * as tf from '@tensorflow/tfjs';

type Conv2DInfo = tf.backend_util.Conv2DInfo;
type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
type Pair = [number, number] | number;

/** Attributes TF.js passes to the conv backprop kernels (dilations only for depthwise, dataFormat only for conv2d). */
interface ConvAttrs {
  strides: Pair;
  pad: Pad;
  dilations?: Pair;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}
type Shape4 = [number, number, number, number];
type BackpropFilterAttrs = ConvAttrs & { filterShape: Shape4 };
type BackpropInputAttrs = ConvAttrs & { inputShape: Shape4 };

/** x zero-padded as the forward conv saw it, cut to exactly the rows/columns that the filter taps reach. */
function paddedInput(x: tf.Tensor4D, info: Conv2DInfo): tf.Tensor4D {
  const needH = (info.filterHeight - 1) * info.dilationHeight + (info.outHeight - 1) * info.strideHeight + 1;
  const needW = (info.filterWidth - 1) * info.dilationWidth + (info.outWidth - 1) * info.strideWidth + 1;
  const { top, left } = info.padInfo;
  const [b, h, w, c] = x.shape;
  const padded = tf.pad(x, [[0, 0], [top, Math.max(0, needH - top - h)], [left, Math.max(0, needW - left - w)], [0, 0]]);
  return padded.shape[1] === needH && padded.shape[2] === needW ? padded : padded.slice([0, 0, 0, 0], [b, needH, needW, c]);
}

/**
 * The filter gradient of a conv is itself a convolution: correlating the padded input with dY over
 * (batch, outH, outW). Folding the batch into channels lets wasm's own conv kernels do it in one call,
 * with the forward stride as the dilation and the forward dilation as the stride.
 *   Conv2D:    dW[fh,fw,ci,co] = Σ_{b,y,x} Xpad[b, y·sh+fh, x·sw+fw, ci] · dY[b,y,x,co]
 *   Depthwise: dW[fh,fw,c,m]   = Σ_{b,y,x} Xpad[b, y·sh+fh·dh, x·sw+fw·dw, c] · dY[b,y,x,c·M+m]
 */
export function conv2dBackpropFilter(x: tf.Tensor4D, dy: tf.Tensor4D, attrs: BackpropFilterAttrs): tf.Tensor4D {
  if (attrs.dataFormat === 'NCHW') throw new Error('conv2dBackpropFilter on wasm supports NHWC only');
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(x.shape, attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false);
    const { batchSize: b, outHeight: oh, outWidth: ow, inChannels: ci, outChannels: co } = info;
    if (info.filterHeight === 1 && info.filterWidth === 1 && info.strideHeight === 1 && info.strideWidth === 1 && x.shape[1] === oh && x.shape[2] === ow) {
      // 1×1 stride-1 conv: X^T·dY directly
      return tf.matMul(x.reshape([b * oh * ow, ci]), dy.reshape([b * oh * ow, co]), true, false).reshape(attrs.filterShape) as tf.Tensor4D;
    }
    // input [ci, H, W, b] (the batch as channels), filter dY as [oh, ow, b, co]: out [ci, fh, fw, co]
    const xc = tf.transpose(paddedInput(x, info), [3, 1, 2, 0]) as tf.Tensor4D;
    const filter = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
    const out = tf.conv2d(xc, filter, 1, 'valid', 'NHWC', [info.strideHeight, info.strideWidth]);
    return tf.transpose(out, [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

export function depthwiseBackpropFilter(x: tf.Tensor4D, dy: tf.Tensor4D, attrs: BackpropFilterAttrs): tf.Tensor4D {
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(x.shape, attrs.filterShape, attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode, true);
    const [kh, kw, channels, multiplier] = attrs.filterShape;
    const { batchSize: b, outHeight: oh, outWidth: ow } = info;
    // input [1, H, W, b·c] (the batch folded into channels)
    const xp = paddedInput(x, info);
    const xin = tf.transpose(xp, [1, 2, 0, 3]).reshape([1, xp.shape[1], xp.shape[2], b * channels]) as tf.Tensor4D;
    // filter dY as [oh, ow, b·c, M]: a depthwise conv with the channel multiplier of the forward one
    const filter = tf.transpose(dy.reshape([b, oh, ow, channels * multiplier]), [1, 2, 0, 3]).reshape([oh, ow, b * channels, multiplier]) as tf.Tensor4D;
    const out = tf.depthwiseConv2d(xin, filter, [info.dilationHeight, info.dilationWidth], 'valid', 'NHWC', [info.strideHeight, info.strideWidth]);
    // out [1, kh, kw, b·c·M] -> Σ over b, as a matmul with ones (wasm's Sum would transpose first)
    return tf.matMul(tf.ones([1, b]), out.reshape([kh * kw, b, channels * multiplier])).reshape(attrs.filterShape) as tf.Tensor4D;
  });
}

/**
 * dY laid out so that a stride-1 'valid' correlation with the spatially flipped filter gives dX: zeros
 * inserted between rows/columns for the forward stride, then padded (or cut) to the input size.
 */
function spreadForInputGradient(dy: tf.Tensor4D, info: Conv2DInfo, inH: number, inW: number, kh: number, kw: number): tf.Tensor4D {
  const { batchSize: b, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const c = dy.shape[3];
  let u = dy;
  if (sh > 1 || sw > 1) {
    // [b, oh, 1, ow, 1, c] padded to [b, oh, sh, ow, sw, c]; the trailing zeros are cut
    const spread = tf.pad(dy.reshape([b, oh, 1, ow, 1, c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
    u = spread.reshape<tf.Tensor4D>([b, oh * sh, ow * sw, c]).slice([0, 0, 0, 0], [b, (oh - 1) * sh + 1, (ow - 1) * sw + 1, c]);
  }
  const padTop = (kh - 1) * dh - info.padInfo.top;
  const padLeft = (kw - 1) * dw - info.padInfo.left;
  const padBottom = inH + info.padInfo.top - ((oh - 1) * sh + 1);
  const padRight = inW + info.padInfo.left - ((ow - 1) * sw + 1);
  u = tf.pad(u, [[0, 0], [Math.max(0, padTop), Math.max(0, padBottom)], [Math.max(0, padLeft), Math.max(0, padRight)], [0, 0]]);
  if (padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0) {
    const top = Math.max(0, -padTop);
    const left = Math.max(0, -padLeft);
    u = u.slice([0, top, left, 0], [b, u.shape[1] - top - Math.max(0, -padBottom), u.shape[2] - left - Math.max(0, -padRight), c]);
  }
  return u;
}

/**
 * dX of a depthwise conv = a stride-1 depthwise conv of the spread dY with the flipped filter and the
 * same dilation, on wasm's own depthwise kernel. With channel multiplier M > 1 each of the C·M channels
 * is convolved, then summed per input channel.
 */
export function depthwiseBackpropInput(dy: tf.Tensor4D, filter: tf.Tensor4D, attrs: BackpropInputAttrs): tf.Tensor4D {
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(attrs.inputShape, filter.shape, attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode, true);
    const [kh, kw, channels, multiplier] = filter.shape;
    const [b, inH, inW] = attrs.inputShape;
    const u = spreadForInputGradient(dy, info, inH, inW, kh, kw);
    const flipped = tf.reverse(filter, [0, 1]).reshape([kh, kw, channels * multiplier, 1]) as tf.Tensor4D;
    const dx = tf.depthwiseConv2d(u, flipped, 1, 'valid', 'NHWC', [info.dilationHeight, info.dilationWidth]);
    return (multiplier === 1 ? dx : dx.reshape([b, inH, inW, channels, multiplier]).sum(4)) as tf.Tensor4D;
  });
}

/**
 * dX of a conv = a stride-1 conv of the spread dY with the flipped filter, input and output channels
 * swapped; 1×1 stride-1 convs are just dY·Wᵀ. (wasm has this kernel natively, but it measured ~9×
 * slower than its own forward conv on MobileNetV2's 1×1 layers.)
 */
export function conv2dBackpropInput(dy: tf.Tensor4D, filter: tf.Tensor4D, attrs: BackpropInputAttrs): tf.Tensor4D {
  if (attrs.dataFormat === 'NCHW') throw new Error('conv2dBackpropInput on wasm supports NHWC only');
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(attrs.inputShape, filter.shape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false);
    const [kh, kw, ci, co] = filter.shape;
    const [b, inH, inW] = attrs.inputShape;
    if (kh === 1 && kw === 1 && info.strideHeight === 1 && info.strideWidth === 1 && info.outHeight === inH && info.outWidth === inW) {
      return tf.matMul(dy.reshape([b * inH * inW, co]), filter.reshape([ci, co]), false, true).reshape(attrs.inputShape) as tf.Tensor4D;
    }
    const u = spreadForInputGradient(dy, info, inH, inW, kh, kw);
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    return tf.conv2d(u, flipped, 1, 'valid');
  });
}

let registered = false;

/** Registers the three missing kernels for the wasm backend and replaces its slow Conv2DBackpropInput (idempotent). */
export function registerWasmGradientKernels(): void {
  if (registered) return;
  registered = true;
  const asAttrs = <T>(a: unknown) => a as T;
  const kernels: [string, tf.KernelFunc][] = [
    ['Conv2DBackpropFilter', ({ inputs, attrs }) => conv2dBackpropFilter(inputs.x as tf.Tensor4D, inputs.dy as tf.Tensor4D, asAttrs<BackpropFilterAttrs>(attrs))],
    ['DepthwiseConv2dNativeBackpropFilter', ({ inputs, attrs }) => depthwiseBackpropFilter(inputs.x as tf.Tensor4D, inputs.dy as tf.Tensor4D, asAttrs<BackpropFilterAttrs>(attrs))],
    ['DepthwiseConv2dNativeBackpropInput', ({ inputs, attrs }) => depthwiseBackpropInput(inputs.dy as tf.Tensor4D, inputs.filter as tf.Tensor4D, asAttrs<BackpropInputAttrs>(attrs))],
    ['Conv2DBackpropInput', ({ inputs, attrs }) => conv2dBackpropInput(inputs.dy as tf.Tensor4D, inputs.filter as tf.Tensor4D, asAttrs<BackpropInputAttrs>(attrs))],
  ];
  for (const [kernelName, kernelFunc] of kernels) {
    if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
}

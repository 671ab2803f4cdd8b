// ResNet-50 and VGG-16 built layer by layer as keras.applications builds them (resnet.py's stack1/block1,
// vgg16.py), with Keras' layer names, so the weights of a `tensorflowjs_converter` output of
// keras.applications.ResNet50 / VGG16 (with or without the top) load by name. The features are the global
// average pool of the last stage (Keras' pooling="avg"), not VGG's 25,088-d flatten; the classifier top is
// never built. Any square size that is a multiple of 32 works: the same weights at every size.
import * as tf from '@tensorflow/tfjs';

/**
 * Keras' random initialisers ('random'), zeros (weights loaded next), or a seed: the same weights every run,
 * with small random biases too, so that no pre-activation sits exactly at ReLU's kink (zero biases on
 * ReLU-dead inputs give sums that are 0 up to rounding, whose sign differs between runtimes).
 */
export type Init = 'random' | 'zeros' | number;

type ConvArgs = Parameters<typeof tf.layers.conv2d>[0];
/** The initialisers of one conv, in build order (a seeded run gives each conv its own seeds). */
type Kernels = () => Pick<ConvArgs, 'kernelInitializer' | 'biasInitializer'>;

export interface KerasApplication {
  model: tf.LayersModel;
  /** block ends for trainableBlocks, input to output (see blocks.ts) */
  ends: string[];
}

type T = tf.SymbolicTensor;

function kernels(init: Init): Kernels {
  if (init === 'zeros') return () => ({ kernelInitializer: 'zeros' });
  if (init === 'random') return () => ({ kernelInitializer: 'glorotUniform' });
  let next = init;
  return () => ({ kernelInitializer: tf.initializers.glorotUniform({ seed: next++ }), biasInitializer: tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: next++ }) });
}

/** Keras' defaults (glorot_uniform kernels, zero biases). */
function conv(x: T, filters: number, kernel: number, name: string, init: Kernels, o: { strides?: number; padding?: 'same' | 'valid'; activation?: 'relu' } = {}): T {
  return tf.layers
    .conv2d({ filters, kernelSize: kernel, strides: o.strides ?? 1, padding: o.padding ?? 'valid', activation: o.activation, name, ...init() })
    .apply(x) as T;
}

const bn = (x: T, name: string) => tf.layers.batchNormalization({ axis: 3, epsilon: 1.001e-5, name }).apply(x) as T;
const relu = (x: T, name: string) => tf.layers.activation({ activation: 'relu', name }).apply(x) as T;

/** resnet.py block1: the bottleneck 1×1 → 3×3 → 1×1 (×4 filters) plus the shortcut, conv'd when it changes shape. */
function bottleneck(x: T, filters: number, stride: number, convShortcut: boolean, name: string, init: Kernels): T {
  const shortcut = convShortcut ? bn(conv(x, 4 * filters, 1, `${name}_0_conv`, init, { strides: stride }), `${name}_0_bn`) : x;
  let y = relu(bn(conv(x, filters, 1, `${name}_1_conv`, init, { strides: stride }), `${name}_1_bn`), `${name}_1_relu`);
  y = relu(bn(conv(y, filters, 3, `${name}_2_conv`, init, { padding: 'same' }), `${name}_2_bn`), `${name}_2_relu`);
  y = bn(conv(y, 4 * filters, 1, `${name}_3_conv`, init), `${name}_3_bn`);
  return relu(tf.layers.add({ name: `${name}_add` }).apply([shortcut, y]) as T, `${name}_out`);
}

/** keras.applications.ResNet50(include_top=False, pooling="avg"): [n, s, s, 3] caffe pixels -> [n, 2048]. */
export function resnet50(imageSize: number, seed: Init = 'random'): KerasApplication {
  const init = kernels(seed);
  const input = tf.input({ shape: [imageSize, imageSize, 3], name: 'input_1' });
  let x = tf.layers.zeroPadding2d({ padding: [[3, 3], [3, 3]], name: 'conv1_pad' }).apply(input) as T;
  x = relu(bn(conv(x, 64, 7, 'conv1_conv', init, { strides: 2 }), 'conv1_bn'), 'conv1_relu');
  x = tf.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: 'pool1_pad' }).apply(x) as T;
  x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1_pool' }).apply(x) as T;
  // the stem, then every bottleneck is a block (conv2: 3, conv3: 4, conv4: 6, conv5: 3)
  const ends = ['pool1_pool'];
  const stages: [number, number, number][] = [[64, 3, 1], [128, 4, 2], [256, 6, 2], [512, 3, 2]];
  stages.forEach(([filters, blocks, stride], s) => {
    for (let b = 1; b <= blocks; b++) {
      const name = `conv${s + 2}_block${b}`;
      x = bottleneck(x, filters, b === 1 ? stride : 1, b === 1, name, init);
      ends.push(`${name}_out`);
    }
  });
  const features = tf.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(x) as T;
  return { model: tf.model({ inputs: input, outputs: features, name: 'resnet50' }), ends };
}

/** keras.applications.VGG16(include_top=False, pooling="avg"): [n, s, s, 3] caffe pixels -> [n, 512]. */
export function vgg16(imageSize: number, seed: Init = 'random'): KerasApplication {
  const init = kernels(seed);
  const input = tf.input({ shape: [imageSize, imageSize, 3], name: 'input_1' });
  let x = input;
  const ends: string[] = [];
  const blocks: [number, number][] = [[64, 2], [128, 2], [256, 3], [512, 3], [512, 3]];
  blocks.forEach(([filters, convs], b) => {
    for (let c = 1; c <= convs; c++) x = conv(x, filters, 3, `block${b + 1}_conv${c}`, init, { padding: 'same', activation: 'relu' });
    x = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `block${b + 1}_pool` }).apply(x) as T;
    ends.push(`block${b + 1}_pool`);
  });
  const features = tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }).apply(x) as T;
  return { model: tf.model({ inputs: input, outputs: features, name: 'vgg16' }), ends };
}

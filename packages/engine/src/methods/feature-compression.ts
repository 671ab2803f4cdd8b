// Compression of the pooled features a linear probe reads: each feature x becomes x / (m + |x|), m its mean
// magnitude on the training images (softsign(x / m)), before the standardisation. Pooled block ends are
// heavy-tailed (a few images light a channel far beyond the rest), and on a few hundred images a linear
// classifier spends its weight on those tails; a concave, sign-keeping squash evens them out, as the power
// normalisation of Fisher vectors (Perronnin et al. 2010) and of few-shot features (PT-MAP, Hu et al. 2021)
// does, but defined for MobileNetV2's signed block ends too. Measured on InceptionV3 block ends, 40
// labels/class, trained on one seed's set and tested on the other two seeds' (800 images): Fashion-MNIST
// 0.812 → 0.820 (each of 3 seeds up), digits 0.942 → 0.945, shifted digits 0.760 → 0.788
// (bench/engine/probe_squash.py), with √x and 1 − e^(−x/m) alike. With more images the probe can afford the
// tails: on 2,000 images (MobileNetV2 block ends at 96 px, bench/service/job-speed.ts) it cost 0.9 points, so
// the squash is for few labels only (SQUASH_MAX_IMAGES). In the served graph it is a frozen BatchNormalization
// (x / m) and a softsign Activation: TF.js built-ins, ONNX BatchNormalization + Softsign.
import * as tf from '@tensorflow/tfjs';

/** Up to this many training images the probe squashes its features (measured at 400, a loss at 2,000). */
export const SQUASH_MAX_IMAGES = 1000;

const EPSILON = 1e-8;
/** Scales below it are raised to it, so the served BatchNormalization's √(s² − ε + ε) is s in float32. */
const MIN_SCALE = 1e-3;

/** Per-feature mean magnitude of `n` rows of `d` features (at least MIN_SCALE); a feature ~0 everywhere keeps 1. */
export function compressionScale(x: Float32Array, n: number, d: number): Float32Array {
  const m = new Float32Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) m[j] += Math.abs(x[i * d + j]) / n;
  return m.map((v) => (v > 1e-12 ? Math.max(v, MIN_SCALE) : 1));
}

/** x / (m + |x|) for every row, as the served layers compute it. */
export function compress(x: Float32Array, scale: Float32Array): Float32Array {
  const d = scale.length;
  return x.map((v, i) => {
    const z = v / scale[i % d];
    return z / (1 + Math.abs(z));
  });
}

/** The served layers: a frozen BatchNormalization dividing by the scale, then softsign. */
export function compressionLayers(name: string): tf.layers.Layer[] {
  return [
    tf.layers.batchNormalization({ name: `${name}_compress_scale`, epsilon: EPSILON, trainable: false }),
    tf.layers.activation({ name: `${name}_compress`, activation: 'softsign' }),
  ];
}

/** Sets compressionLayers' BatchNormalization (already built) to x / scale. */
export function setCompressionScale(layer: tf.layers.Layer, scale: Float32Array): void {
  const d = scale.length;
  tf.tidy(() => layer.setWeights([tf.ones([d]), tf.zeros([d]), tf.zeros([d]), tf.tensor1d(Float32Array.from(scale, (s) => Math.max(0, s * s - EPSILON)))]));
}

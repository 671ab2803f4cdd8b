// The small networks the methods put on top of the backbone's pooled features: softmax classifier heads, DANN's
// bottleneck and domain discriminator. A head is a flat stack of layers so it can run eagerly on cached
// activations during training and be applied symbolically when the served model is assembled.
import * as tf from '@tensorflow/tfjs';
import { compressionLayers, setCompressionScale } from './feature-compression.ts';

export class LayerStack {
  constructor(readonly layers: tf.layers.Layer[]) {}

  /**
   * Creates the weights now, for inputs of `inputDim` features: an optimiser and an early-stopping snapshot
   * list weights before the first forward pass, and an unbuilt layer has none to list.
   */
  static built(layers: tf.layers.Layer[], inputDim: number): LayerStack {
    const stack = new LayerStack(layers);
    // one forward pass builds the layers inside their name scopes (weights named 'graft_head/kernel', which
    // the saved model.json refers to); calling build() directly would leave them unscoped
    tf.tidy(() => void stack.apply(tf.zeros([1, inputDim])));
    return stack;
  }

  apply(x: tf.Tensor): tf.Tensor;
  apply(x: tf.SymbolicTensor): tf.SymbolicTensor;
  apply(x: tf.Tensor | tf.SymbolicTensor): tf.Tensor | tf.SymbolicTensor {
    return this.layers.reduce<tf.Tensor | tf.SymbolicTensor>((h, l) => l.apply(h) as tf.Tensor | tf.SymbolicTensor, x);
  }

  get trainableWeights(): tf.LayerVariable[] {
    return this.layers.flatMap((l) => l.trainableWeights);
  }

  /**
   * Frees the weights of a head that is not (or not yet) part of the served model: source head, discriminator,
   * a head whose training failed. Weights directly, since Layer.dispose() refuses layers never called.
   */
  dispose(): void {
    for (const w of this.layers.flatMap((l) => l.weights)) w.dispose();
  }
}

function dense(name: string, units: number, seed: number, activation: 'linear' | 'relu' = 'linear'): tf.layers.Layer {
  return tf.layers.dense({
    name,
    units,
    activation,
    kernelInitializer: tf.initializers.glorotUniform({ seed }),
    biasInitializer: 'zeros',
  });
}

/** Linear layer to class logits; the served model adds the softmax (training uses logits for a stable loss). */
export function softmaxHead(name: string, inputDim: number, numClasses: number, seed: number): LayerStack {
  return LayerStack.built([dense(name, numClasses, seed)], inputDim);
}

/** DANN's bottleneck: the adapted feature the label head and the domain discriminator both read. */
export function bottleneck(name: string, inputDim: number, units: number, seed: number): LayerStack {
  return LayerStack.built([dense(name, units, seed, 'relu')], inputDim);
}

/** Domain discriminator: one hidden ReLU layer, one logit (source = 1, target = 0). */
export function domainDiscriminator(name: string, inputDim: number, hidden: number, seed: number): LayerStack {
  return LayerStack.built([dense(`${name}_hidden`, hidden, seed, 'relu'), dense(`${name}_logit`, 1, seed + 1)], inputDim);
}

/**
 * A softmax head on standardised features: a frozen BatchNormalization holding the training features' mean and
 * scale (an exact standardisation in inference mode, exported as such), then the Dense to class logits. The
 * block-end features mix scales by orders of magnitude; standardised, Adam's steps move every feature's weight
 * alike, and a linear probe fitted on the standardised features (LP-FT) is the Dense's start as it is. With
 * `compression` the features are first compressed as the probe compressed them (feature-compression.ts), and
 * `mean`/`scale` are the compressed features'.
 */
export function standardisedSoftmaxHead(name: string, mean: Float32Array, scale: Float32Array, numClasses: number, seed: number, compression?: Float32Array | null): LayerStack {
  const standardise = tf.layers.batchNormalization({ name: `${name}_standardise`, epsilon: STANDARDISE_EPSILON, trainable: false });
  const front = compression ? compressionLayers(name) : [];
  const stack = LayerStack.built([...front, standardise, dense(name, numClasses, seed)], mean.length);
  if (compression) setCompressionScale(stack.layers[0], compression);
  setStandardisation(stack, mean, scale);
  return stack;
}

const STANDARDISE_EPSILON = 1e-6;

/** Sets a standardised head's frozen BatchNormalization (the layer before its Dense) to (x − mean) / scale. */
export function setStandardisation(head: LayerStack, mean: Float32Array, scale: Float32Array): void {
  const d = mean.length;
  tf.tidy(() =>
    head.layers[head.layers.length - 2].setWeights([tf.ones([d]), tf.zeros([d]), tf.tensor1d(mean), tf.tensor1d(Float32Array.from(scale, (s) => Math.max(0, s * s - STANDARDISE_EPSILON)))]),
  );
}

// Two learning rates: the new heads at the full rate, the pretrained backbone blocks at a tenth of it (the heads
// start from random weights, the blocks from good ones that large steps would wreck). Two update rules: Adam at
// fixed rates (fine_tune, multi_task), and DANN's SGD with momentum 0.9 annealed μ0/(1+10p)^0.75 (Ganin et al.):
// Adam rescales every gradient to a full step, so once the label loss is small the reversed domain gradient
// drives the features alone whatever λ is, and the adversarial game diverges (measured in bench/engine/accuracy.ts).
// A step runs the suffix forward on its runtime (ONNX Runtime or TF.js), lets TF.js differentiate the loss
// with respect to the heads' weights and the features, and sends d(loss)/d(features) back through the suffix.
import * as tf from '@tensorflow/tfjs';
import type { Gradients, SuffixRunner } from '../suffix/index.ts';
import { FusedAdam } from './fused-adam.ts';

/** A method's loss over a batch's pooled features; extra scalars (accuracy…) are returned with it. */
export type FeatureLoss = (features: tf.Tensor2D) => { loss: tf.Scalar; metrics?: Record<string, tf.Scalar> };

export type UpdateRule = 'adam' | 'annealed-sgd';

export class TwoRateOptimizer {
  private readonly backbone: FusedAdam | tf.Optimizer;
  private readonly head: FusedAdam | tf.Optimizer;
  private readonly headVars: tf.Variable[];
  /** the blocks' shapes by variable name, for tf.train's optimisers (asTensors) */
  private readonly blockShapes: Map<string, number[]>;

  constructor(
    private readonly suffix: SuffixRunner,
    headWeights: tf.LayerVariable[],
    private readonly learningRate: number,
    private readonly rule: UpdateRule = 'adam',
  ) {
    const optimizer = (lr: number) => (rule === 'adam' ? tf.train.adam(lr) : tf.train.momentum(lr, 0.9));
    // Adam fused where the weights sit in CPU memory anyway (wasm, cpu): the blocks', and the heads', whose ~10
    // TF.js kernels per variable cost more than their few thousand weights; on TensorFlow's kernels (tfjs-node,
    // its GPU build) TF.js's Adam keeps them where they are
    const fused = rule === 'adam' && tf.getBackend() !== 'tensorflow';
    this.headVars = headWeights.map((w) => w.read() as tf.Variable);
    // a runner that runs on the weights it is handed (ONNX Runtime) lets the fused Adam write the variables at publish() only
    const blocks = suffix.trainableWeights.map((w) => w.read() as tf.Variable);
    this.blockShapes = new Map(blocks.map((v) => [v.name, v.shape]));
    this.backbone = fused ? new FusedAdam(blocks, learningRate / 10, 0.9, 0.999, suffix.readsGivenWeights === true) : optimizer(learningRate / 10);
    this.head = fused ? new FusedAdam(this.headVars, learningRate) : optimizer(learningRate);
  }

  /** Training progress p in [0, 1] before a step: the annealed rule lowers both rates with it. */
  setProgress(p: number): void {
    if (this.rule !== 'annealed-sgd') return;
    const rate = this.learningRate / (1 + 10 * p) ** 0.75;
    (this.head as tf.SGDOptimizer).setLearningRate(rate);
    (this.backbone as tf.SGDOptimizer).setLearningRate(rate / 10);
  }

  /** Writes the blocks' stepped weights into their variables, for what reads those (validation, early stopping). */
  publish(): void {
    if (this.backbone instanceof FusedAdam) this.backbone.publish();
  }

  /** One step on the loss of the features of `x`; returns the loss and f's metrics, which the caller disposes. */
  async minimize(x: tf.Tensor, f: FeatureLoss): Promise<Record<string, tf.Scalar>> {
    const weights = this.backbone instanceof FusedAdam && this.suffix.readsGivenWeights ? this.backbone.current() : undefined;
    const pass = await this.suffix.forward(x, weights);
    try {
      // the features as a variable: variableGrads then also returns d(loss)/d(features)
      const features = tf.variable(pass.features);
      const kept: Record<string, tf.Scalar> = {};
      let step: { value: tf.Scalar; grads: tf.NamedTensorMap };
      try {
        step = tf.variableGrads(() => {
          const r = f(features as tf.Variable<tf.Rank.R2>);
          for (const [k, t] of Object.entries(r.metrics ?? {})) kept[k] = tf.keep(t);
          return r.loss;
        }, [...this.headVars, features]);
      } finally {
        features.dispose();
      }
      const { [features.name]: dFeatures, ...headGrads } = step.grads;
      this.head.applyGradients(headGrads);
      tf.dispose(headGrads);
      try {
        if (this.suffix.trainableWeights.length) {
          const suffixGrads = await pass.backward(dFeatures as tf.Tensor2D);
          if (this.backbone instanceof FusedAdam) this.backbone.applyGradients(suffixGrads);
          else {
            const tensors = this.asTensors(suffixGrads);
            this.backbone.applyGradients(tensors);
            tf.dispose(Object.values(tensors));
          }
          // tensors only: tf.dispose would walk a Float32Array's every element
          for (const g of Object.values(suffixGrads)) if (g instanceof tf.Tensor) g.dispose();
        }
      } finally {
        dFeatures.dispose();
      }
      return { loss: step.value, ...kept };
    } finally {
      pass.dispose();
    }
  }

  /** tf.train's optimisers take tensors: ONNX Runtime's arrays in the shapes of their variables */
  private asTensors(grads: Gradients): tf.NamedTensorMap {
    return Object.fromEntries(Object.entries(grads).map(([name, g]) => [name, g instanceof tf.Tensor ? g : tf.tensor(g, this.blockShapes.get(name))]));
  }

  dispose(): void {
    if (!(this.backbone instanceof FusedAdam)) this.backbone.dispose();
    if (!(this.head instanceof FusedAdam)) this.head.dispose();
  }
}

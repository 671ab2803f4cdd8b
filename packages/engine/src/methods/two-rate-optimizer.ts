// Adam for the new heads at the full learning rate and for the pretrained backbone blocks at a tenth of it:
// the heads start from random weights, the blocks from good ones that large steps would wreck.
import * as tf from '@tensorflow/tfjs';

export class TwoRateOptimizer {
  private readonly backbone: tf.Optimizer;
  private readonly head: tf.Optimizer;
  private readonly backboneNames: Set<string>;
  private readonly vars: tf.Variable[];

  constructor(backboneWeights: tf.LayerVariable[], headWeights: tf.LayerVariable[], learningRate: number) {
    this.backbone = tf.train.adam(learningRate / 10);
    this.head = tf.train.adam(learningRate);
    const bb = backboneWeights.map((w) => w.read() as tf.Variable);
    this.backboneNames = new Set(bb.map((v) => v.name));
    this.vars = [...bb, ...headWeights.map((w) => w.read() as tf.Variable)];
  }

  /**
   * One step on the loss `f` returns. Extra scalars f reports (accuracy…) are kept out of the gradient
   * scope and returned with the loss; the caller disposes them.
   */
  minimize(f: () => { loss: tf.Scalar; metrics?: Record<string, tf.Scalar> }): Record<string, tf.Scalar> {
    const kept: Record<string, tf.Scalar> = {};
    const { value, grads } = tf.variableGrads(() => {
      const r = f();
      for (const [k, t] of Object.entries(r.metrics ?? {})) kept[k] = tf.keep(t);
      return r.loss;
    }, this.vars);
    const bbGrads: tf.NamedTensorMap = {};
    const headGrads: tf.NamedTensorMap = {};
    for (const [name, g] of Object.entries(grads)) (this.backboneNames.has(name) ? bbGrads : headGrads)[name] = g;
    if (Object.keys(bbGrads).length) this.backbone.applyGradients(bbGrads);
    this.head.applyGradients(headGrads);
    tf.dispose(grads);
    return { loss: value, ...kept };
  }

  dispose(): void {
    this.backbone.dispose();
    this.head.dispose();
  }
}

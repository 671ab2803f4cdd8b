// The engine's trainable backbone suffix on ONNX Runtime: inference, and training steps split in a forward
// call (features + the values the backward pass needs) and a backward call (d(features) -> the gradient of
// every trainable tf.js variable, as the arrays ONNX Runtime returns). Weights are read from the tf.js variables
// at each call, or from the optimiser's own copy when it hands one to forward() (it writes the variables later,
// so the served model, checkpoint and export still see the trained weights).
import * as tf from '@tensorflow/tfjs';
import { UnsupportedLayerError } from '../export/layer-export.ts';
import { float32Values } from '../runtime/tensor-values.ts';
import { loadOrt, openSession, type OnnxRunnerOptions, type OrtSession } from '../runtime/ort-session.ts';
import { NoGradientRuleError } from './gradient-rules.ts';
import { buildTrainingGraph, type TrainingGraph } from './training-graph.ts';

type Ort = NonNullable<Awaited<ReturnType<typeof loadOrt>>>;
type OrtTensor = InstanceType<Ort['Tensor']>;

/** One training forward pass; `backward` may be called once, with d(loss)/d(features). */
export interface OnnxSuffixPass {
  features: tf.Tensor2D;
  backward(dFeatures: tf.Tensor2D): Promise<Record<string, Float32Array>>;
  dispose(): void;
}

export class OnnxSuffixRunner {
  /**
   * Opens the suffix's forward and backward models; null (logged, the caller trains on TF.js) when ONNX
   * Runtime is missing or rejects them, or a layer or op has no export or gradient rule.
   */
  static async create(suffix: tf.LayersModel, opts: OnnxRunnerOptions = {}): Promise<OnnxSuffixRunner | null> {
    if (!(await loadOrt(opts.logger))) return null;
    let graph: TrainingGraph;
    try {
      graph = buildTrainingGraph(suffix);
    } catch (err) {
      if (!(err instanceof UnsupportedLayerError || err instanceof NoGradientRuleError)) throw err;
      opts.logger?.warn({ path: 'tfjs', err: err.message }, 'the trainable suffix cannot train on ONNX Runtime');
      return null;
    }
    const forward = await openSession(graph.forward, opts);
    const backward = forward && (await openSession(graph.backward, opts));
    if (!forward || !backward) {
      await forward?.session.release();
      return null;
    }
    return new OnnxSuffixRunner(suffix, graph, forward.ort, forward.session, backward.session);
  }

  readonly trainableWeights: tf.LayerVariable[];
  readonly readsGivenWeights = true;

  private constructor(
    suffix: tf.LayersModel,
    private readonly graph: TrainingGraph,
    private readonly ort: Ort,
    private readonly forwardSession: OrtSession,
    private readonly backwardSession: OrtSession,
  ) {
    this.trainableWeights = suffix.trainableWeights;
    this.fed = this.trainableWeights.map((w) => new Float32Array(w.read().size));
  }

  /** one array per trainable variable, refilled at each call: fresh copies were megabytes a step to collect */
  private readonly fed: Float32Array[];

  /** The trainable weights fed under their variables' names: the given values, else the variables' (valid until the next call). */
  private weights(given?: ReadonlyMap<string, Float32Array>): Record<string, OrtTensor> {
    return Object.fromEntries(
      this.trainableWeights.map((w, i) => {
        const name = (w.read() as tf.Variable).name;
        let values = given?.get(name);
        if (!values) (values = this.fed[i]!).set(float32Values(w.read()));
        return [name, new this.ort.Tensor('float32', values, w.shape as number[])];
      }),
    );
  }

  private input(x: tf.Tensor): OrtTensor {
    return new this.ort.Tensor('float32', x.dataSync() as Float32Array, x.shape);
  }

  private features(data: unknown, n: number): tf.Tensor2D {
    return tf.tensor2d(data as Float32Array, [n, this.graph.outputShape[0]]);
  }

  /** Features in inference mode (BatchNorm on its moving statistics). */
  async predict(x: tf.Tensor): Promise<tf.Tensor2D> {
    const feeds = this.weights();
    const out = await this.forwardSession.run({ ...feeds, [this.graph.input]: this.input(x) }, [this.graph.output]);
    return this.features(out[this.graph.output].data, x.shape[0]);
  }

  async forward(x: tf.Tensor, weights?: ReadonlyMap<string, Float32Array>): Promise<OnnxSuffixPass> {
    const feeds = this.weights(weights);
    const input = this.input(x);
    const saved = await this.forwardSession.run({ ...feeds, [this.graph.input]: input });
    const features = this.features(saved[this.graph.output].data, x.shape[0]);
    return {
      features,
      backward: async (dFeatures) => {
        const known: Record<string, OrtTensor> = {
          ...feeds,
          ...(saved as Record<string, OrtTensor>),
          [this.graph.input]: input,
          [this.graph.dOutput]: new this.ort.Tensor('float32', dFeatures.dataSync() as Float32Array, dFeatures.shape),
        };
        const out = await this.backwardSession.run(Object.fromEntries(this.backwardSession.inputNames.map((name) => [name, known[name]])));
        return Object.fromEntries(this.graph.params.map((p) => [p.name, p.grad ? (out[p.grad].data as Float32Array) : new Float32Array(p.dims.reduce((a, b) => a * b, 1))]));
      },
      dispose: () => features.dispose(),
    };
  }

  async dispose(): Promise<void> {
    await this.forwardSession.release();
    await this.backwardSession.release();
  }
}

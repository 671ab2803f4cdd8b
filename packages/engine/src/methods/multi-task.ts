// multi_task: one shared trainable suffix, a source head and a target head (with linearProbeFirst both started as
// linear probes, LP-FT), minimising L_s + λ·L_t over batches drawn from both domains in lock-step. The served
// model keeps only the target head.
import * as tf from '@tensorflow/tfjs';
import type { MethodInput, MethodResult } from './method.ts';
import { batchInputs, batchLabels } from './example-set.ts';
import { softmaxHead } from './heads.ts';
import { childSeed } from './seeded-random.ts';
import { batchAccuracy, classifierForward, validationMetrics } from './classifier-forward.ts';
import { cycledBatches } from './training-loop.ts';
import { trainGradientMethod } from './gradient-method.ts';
import { startFromLinearProbe } from './linear-probe.ts';

export async function multiTask(input: MethodInput): Promise<MethodResult> {
  const { runner, featureDim, train, validation, numClasses, hp, rand } = input;
  if (!input.source) throw new Error('multi_task needs a source set');
  const source = input.source;
  const targetHead = softmaxHead('graft_head', featureDim, numClasses, childSeed(rand));
  const sourceHead = softmaxHead('graft_source_head', featureDim, source.numClasses, childSeed(rand));
  if (hp.linearProbeFirst) {
    const probe = { batchSize: hp.batchSize, rand, signal: input.signal };
    await startFromLinearProbe(runner, targetHead, train, numClasses, probe);
    await startFromLinearProbe(runner, sourceHead, source.set, source.numClasses, probe);
  }
  const forward = classifierForward(runner, targetHead);
  // an epoch walks the larger domain once; the smaller one is cycled
  const steps = Math.ceil(Math.max(train.count, source.set.count) / hp.batchSize);
  let tBatches: Int32Array[] = [];
  let sBatches: Int32Array[] = [];
  return trainGradientMethod(input, {
    served: targetHead,
    auxiliary: sourceHead,
    stepsPerEpoch: steps,
    beginEpoch: () => {
      tBatches = cycledBatches(train.count, hp.batchSize, steps, rand);
      sBatches = cycledBatches(source.set.count, hp.batchSize, steps, rand);
    },
    step: async (optimizer, _epoch, s) => {
      const nt = tBatches[s].length;
      const x = tf.tidy(() => tf.concat([batchInputs(train, tBatches[s]), batchInputs(source.set, sBatches[s])]));
      const yt = batchLabels(train, tBatches[s], numClasses);
      const ys = batchLabels(source.set, sBatches[s], source.numClasses);
      const metrics = await optimizer.minimize(x, (feats) => {
        const tLogits = targetHead.apply(feats.slice([0, 0], [nt, -1])) as tf.Tensor2D;
        const sLogits = sourceHead.apply(feats.slice([nt, 0], [-1, -1])) as tf.Tensor2D;
        const targetLoss = tf.losses.softmaxCrossEntropy(yt, tLogits) as tf.Scalar;
        const sourceLoss = tf.losses.softmaxCrossEntropy(ys, sLogits) as tf.Scalar;
        return {
          loss: sourceLoss.add(targetLoss.mul(hp.lambda)) as tf.Scalar,
          metrics: { accuracy: batchAccuracy(tLogits, yt), targetLoss, sourceLoss, sourceAccuracy: batchAccuracy(sLogits, ys) },
        };
      }).finally(() => tf.dispose([x, yt, ys]));
      return { metrics, batchSize: nt };
    },
    validate: () => validationMetrics(validation, forward, hp.batchSize),
  });
}

// multi_task: one shared trainable suffix, a source head and a target head (with linearProbeFirst both started as
// linear probes, LP-FT; with block-end features both read the frozen blocks' cached pooled ends too), minimising L_s + λ·L_t over batches drawn from both domains in lock-step. The served
// model keeps only the target head.
import * as tf from '@tensorflow/tfjs';
import type { MethodInput, MethodResult } from './method.ts';
import { batchInputs, batchLabels, batchSide, headInput, type ExampleSet } from './example-set.ts';
import { softmaxHead } from './heads.ts';
import { childSeed } from './seeded-random.ts';
import { batchAccuracy, classifierForward, validationMetrics } from './classifier-forward.ts';
import { cycledBatches } from './training-loop.ts';
import { trainGradientMethod } from './gradient-method.ts';
import { kernelPenalty, standardisedHeadFor, startFromLinearProbe } from './linear-probe.ts';

export async function multiTask(input: MethodInput): Promise<MethodResult> {
  const { runner, featureDim, train, validation, numClasses, hp, rand } = input;
  if (!input.source) throw new Error('multi_task needs a source set');
  const source = input.source;
  const probe = { batchSize: hp.batchSize, rand, signal: input.signal };
  const newHead = async (name: string, set: ExampleSet, k: number) => {
    const seed = childSeed(rand);
    if (hp.features === 'block_ends') return standardisedHeadFor(name, runner, set, k, seed, hp.linearProbeFirst, probe);
    const head = softmaxHead(name, featureDim, k, seed);
    return { head, l2: 0, refit: hp.linearProbeFirst ? await startFromLinearProbe(runner, head, set, k, probe) : undefined };
  };
  const { head: targetHead, l2: targetL2, refit } = await newHead('graft_head', train, numClasses);
  const { head: sourceHead, l2: sourceL2 } = await newHead('graft_source_head', source.set, source.numClasses).catch((err) => {
    targetHead.dispose();
    throw err;
  });
  const forward = classifierForward(runner, targetHead);
  // an epoch walks the larger domain once; the smaller one is cycled
  const steps = Math.ceil(Math.max(train.count, source.set.count) / hp.batchSize);
  let tBatches: Int32Array[] = [];
  let sBatches: Int32Array[] = [];
  return trainGradientMethod(input, {
    startsFromProbe: hp.linearProbeFirst,
    refitProbe: refit,
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
      const side = train.side && source.set.side ? tf.tidy(() => tf.concat([batchSide(train, tBatches[s])!, batchSide(source.set, sBatches[s])!])) : null;
      const yt = batchLabels(train, tBatches[s], numClasses);
      const ys = batchLabels(source.set, sBatches[s], source.numClasses);
      const metrics = await optimizer.minimize(x, (pooled) => {
        const feats = headInput(side, pooled);
        const tLogits = targetHead.apply(feats.slice([0, 0], [nt, -1])) as tf.Tensor2D;
        const sLogits = sourceHead.apply(feats.slice([nt, 0], [-1, -1])) as tf.Tensor2D;
        const targetLoss = tf.losses.softmaxCrossEntropy(yt, tLogits).add(kernelPenalty(targetHead, targetL2)) as tf.Scalar;
        const sourceLoss = tf.losses.softmaxCrossEntropy(ys, sLogits).add(kernelPenalty(sourceHead, sourceL2)) as tf.Scalar;
        return {
          loss: sourceLoss.add(targetLoss.mul(hp.lambda)) as tf.Scalar,
          metrics: { accuracy: batchAccuracy(tLogits, yt), targetLoss, sourceLoss, sourceAccuracy: batchAccuracy(sLogits, ys) },
        };
      }).finally(() => tf.dispose([x, yt, ys, side ?? []]));
      return { metrics, batchSize: nt };
    },
    validate: () => validationMetrics(validation, forward, hp.batchSize),
  });
}

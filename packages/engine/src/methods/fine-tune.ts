// fine_tune: a new softmax head on the pooled features (with linearProbeFirst started as a linear probe, LP-FT;
// with block-end features it reads the frozen blocks' cached pooled ends beside the suffix's, standardised),
// the last `trainableBlocks` blocks trained with it at a tenth of its learning rate (min L_t(θ_t), starting from
// θ_t = θ_s). Augmented views of each image were cached by the prefix; every epoch picks one view per image.
import * as tf from '@tensorflow/tfjs';
import type { MethodInput, MethodResult } from './method.ts';
import { batchInputs, batchLabels, batchSide, headInput } from './example-set.ts';
import { softmaxHead } from './heads.ts';
import { childSeed } from './seeded-random.ts';
import { batchAccuracy, classifierForward, validationMetrics } from './classifier-forward.ts';
import { shuffledBatches } from './training-loop.ts';
import { trainGradientMethod } from './gradient-method.ts';
import { kernelPenalty, standardisedHeadFor, startFromLinearProbe } from './linear-probe.ts';

export async function fineTune(input: MethodInput): Promise<MethodResult> {
  const { runner, featureDim, train, validation, numClasses, hp, rand } = input;
  const probe = { batchSize: hp.batchSize, rand, signal: input.signal };
  const seed = childSeed(rand);
  const blockEnds = hp.features === 'block_ends';
  const { head, l2, refit } = blockEnds
    ? await standardisedHeadFor('graft_head', runner, train, numClasses, seed, hp.linearProbeFirst, probe)
    : { head: softmaxHead('graft_head', featureDim, numClasses, seed), l2: 0, refit: undefined };
  const refitProbe = hp.linearProbeFirst && !blockEnds ? await startFromLinearProbe(runner, head, train, numClasses, probe) : refit;
  const forward = classifierForward(runner, head);
  let batches: Int32Array[] = [];
  let viewOf = new Int32Array(train.count);
  return trainGradientMethod(input, {
    startsFromProbe: hp.linearProbeFirst,
    refitProbe,
    served: head,
    stepsPerEpoch: Math.ceil(train.count / hp.batchSize),
    beginEpoch: () => {
      batches = shuffledBatches(train.count, hp.batchSize, rand);
      viewOf = Int32Array.from({ length: train.count }, () => Math.floor(rand() * train.views.length));
    },
    step: async (optimizer, _epoch, s) => {
      const idx = batches[s];
      const x = batchInputs(train, idx, (i) => viewOf[i]);
      const side = batchSide(train, idx, (i) => viewOf[i]);
      const y = batchLabels(train, idx, numClasses);
      try {
        const metrics = await optimizer.minimize(x, (features) => {
          const logits = head.apply(headInput(side, features)) as tf.Tensor2D;
          const loss = tf.losses.softmaxCrossEntropy(y, logits).add(kernelPenalty(head, l2)) as tf.Scalar;
          return { loss, metrics: { accuracy: batchAccuracy(logits, y) } };
        });
        return { metrics, batchSize: idx.length };
      } finally {
        tf.dispose([x, y, side ?? []]);
      }
    },
    validate: () => validationMetrics(validation, forward, hp.batchSize),
  });
}

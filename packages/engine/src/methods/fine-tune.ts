// fine_tune: a new softmax head on the pooled features (with linearProbeFirst started as a linear probe, LP-FT),
// the last `trainableBlocks` blocks trained with it at a tenth of its learning rate (min L_t(θ_t), starting from
// θ_t = θ_s). Augmented views of each image were cached by the prefix; every epoch picks one view per image.
import * as tf from '@tensorflow/tfjs';
import type { MethodInput, MethodResult } from './method.ts';
import { batchInputs, batchLabels } from './example-set.ts';
import { softmaxHead } from './heads.ts';
import { childSeed } from './seeded-random.ts';
import { batchAccuracy, classifierForward, validationMetrics } from './classifier-forward.ts';
import { shuffledBatches } from './training-loop.ts';
import { trainGradientMethod } from './gradient-method.ts';
import { startFromLinearProbe } from './linear-probe.ts';

export async function fineTune(input: MethodInput): Promise<MethodResult> {
  const { runner, featureDim, train, validation, numClasses, hp, rand } = input;
  const head = softmaxHead('graft_head', featureDim, numClasses, childSeed(rand));
  if (hp.linearProbeFirst) await startFromLinearProbe(runner, head, train, numClasses, { batchSize: hp.batchSize, rand, signal: input.signal });
  const forward = classifierForward(runner, head);
  let batches: Int32Array[] = [];
  let viewOf = new Int32Array(train.count);
  return trainGradientMethod(input, {
    served: head,
    stepsPerEpoch: Math.ceil(train.count / hp.batchSize),
    beginEpoch: () => {
      batches = shuffledBatches(train.count, hp.batchSize, rand);
      viewOf = Int32Array.from({ length: train.count }, () => Math.floor(rand() * train.views.length));
    },
    step: async (optimizer, _epoch, s) => {
      const idx = batches[s];
      const x = batchInputs(train, idx, (i) => viewOf[i]);
      const y = batchLabels(train, idx, numClasses);
      try {
        const metrics = await optimizer.minimize(x, (features) => {
          const logits = head.apply(features) as tf.Tensor2D;
          return { loss: tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar, metrics: { accuracy: batchAccuracy(logits, y) } };
        });
        return { metrics, batchSize: idx.length };
      } finally {
        tf.dispose([x, y]);
      }
    },
    validate: () => validationMetrics(validation, forward, hp.batchSize),
  });
}

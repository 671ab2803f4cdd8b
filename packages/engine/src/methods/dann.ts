// domain_adaptation (DANN, Ganin & Lempitsky 2015): feature extractor = trainable suffix + bottleneck; a label
// head learns from the labelled source; a domain discriminator behind a gradient reversal layer learns to tell
// source from target while the reversed gradient (λ ramped 2/(1+e^(−10p))−1) makes the features domain-
// invariant. Trained as the paper is, by SGD with momentum at an annealed rate (two-rate-optimizer.ts says why
// not Adam). Target images are never used with labels; if the target archive has labels they only evaluate.
import * as tf from '@tensorflow/tfjs';
import type { MethodInput, MethodResult } from './method.ts';
import { batchInputs, batchLabels } from './example-set.ts';
import { LayerStack, bottleneck, domainDiscriminator, softmaxHead } from './heads.ts';
import { childSeed } from './seeded-random.ts';
import { batchAccuracy, classifierForward, lossAndAccuracy, validationMetrics } from './classifier-forward.ts';
import { cycledBatches } from './training-loop.ts';
import { trainGradientMethod } from './gradient-method.ts';
import { rampedLambda, reverseGradient } from './gradient-reversal.ts';

/**
 * Information maximisation on the target's predictions (Shi & Sha 2012; SHOT, Liang et al. 2020): the mean
 * per-image entropy (each target image confidently one class) minus the entropy of the mean prediction (all
 * classes used). On a small target set the adversarial game alone can align the domains while mapping the
 * target onto a few classes; the second term is the guard against that collapse.
 */
function informationMaximisation(logits: tf.Tensor2D): { loss: tf.Scalar; entropy: tf.Scalar } {
  const p = tf.softmax(logits);
  const logP = tf.logSoftmax(logits);
  const entropy = tf.neg(tf.mean(tf.sum(tf.mul(p, logP), 1))) as tf.Scalar;
  const mean = tf.mean(p, 0);
  const diversity = tf.neg(tf.sum(tf.mul(mean, tf.log(tf.add(mean, 1e-8))))) as tf.Scalar;
  return { loss: tf.sub(entropy, diversity) as tf.Scalar, entropy };
}

/** Width of the bottleneck and of the discriminator's hidden layer (DANN's paper uses 256 for Office-31 too). */
const BOTTLENECK_UNITS = 256;

export async function dann(input: MethodInput): Promise<MethodResult> {
  const { runner, featureDim, train: source, validation, numClasses, hp, rand } = input;
  if (!input.target) throw new Error('domain_adaptation needs a target set');
  const target = input.target;
  const features = bottleneck('graft_bottleneck', featureDim, BOTTLENECK_UNITS, childSeed(rand));
  const labelHead = softmaxHead('graft_head', BOTTLENECK_UNITS, numClasses, childSeed(rand));
  const discriminator = domainDiscriminator('graft_domain', BOTTLENECK_UNITS, BOTTLENECK_UNITS, childSeed(rand));
  const served = new LayerStack([...features.layers, ...labelHead.layers]);
  const forward = classifierForward(runner, served);
  const steps = Math.ceil(Math.max(source.count, target.count) / hp.batchSize);
  let sBatches: Int32Array[] = [];
  let tBatches: Int32Array[] = [];
  let lambda = 0;
  return trainGradientMethod(input, {
    served,
    auxiliary: discriminator,
    stepsPerEpoch: steps,
    updateRule: 'annealed-sgd',
    beginEpoch: () => {
      sBatches = cycledBatches(source.count, hp.batchSize, steps, rand);
      tBatches = cycledBatches(target.count, hp.batchSize, steps, rand);
    },
    step: async (optimizer, _epoch, s, progress) => {
      lambda = rampedLambda(progress, hp.lambda);
      const ns = sBatches[s].length;
      const nt = tBatches[s].length;
      const x = tf.tidy(() => tf.concat([batchInputs(source, sBatches[s]), batchInputs(target, tBatches[s])]));
      const ys = batchLabels(source, sBatches[s], numClasses);
      const domain = tf.tidy(() => tf.concat([tf.ones([ns, 1]), tf.zeros([nt, 1])]));
      const metrics = await optimizer.minimize(x, (pooled) => {
        const f = features.apply(pooled) as tf.Tensor2D;
        const logits = labelHead.apply(f.slice([0, 0], [ns, -1])) as tf.Tensor2D;
        const domainLogits = discriminator.apply(reverseGradient(f, lambda)) as tf.Tensor2D;
        const labelLoss = tf.losses.softmaxCrossEntropy(ys, logits) as tf.Scalar;
        const domainLoss = tf.losses.sigmoidCrossEntropy(domain, domainLogits) as tf.Scalar;
        const domainAccuracy = tf.mean(tf.cast(tf.equal(tf.greater(domainLogits, 0), tf.cast(domain, 'bool')), 'float32')) as tf.Scalar;
        // the target term ramps in with the domain loss: early predictions are not worth sharpening
        const im = informationMaximisation(labelHead.apply(f.slice([ns, 0], [nt, -1])) as tf.Tensor2D);
        const imWeight = hp.targetEntropyWeight * rampedLambda(progress, 1);
        return {
          loss: labelLoss.add(domainLoss).add(im.loss.mul(imWeight)) as tf.Scalar,
          metrics: { accuracy: batchAccuracy(logits, ys), labelLoss, domainLoss, domainAccuracy, targetEntropy: im.entropy },
        };
      }).finally(() => tf.dispose([x, ys, domain]));
      return { metrics, batchSize: ns };
    },
    validate: async () => ({
      ...(await validationMetrics(validation, forward, hp.batchSize)),
      extra: { lambda, targetAccuracy: target.labels ? (await lossAndAccuracy(target, forward, hp.batchSize)).accuracy : null },
    }),
  });
}

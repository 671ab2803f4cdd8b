// feature_extraction: the backbone stays frozen (Φ); a linear classifier (multinomial logistic regression or a
// one-vs-rest linear SVM) with L2 is fitted to convergence on standardised pooled features (linear-probe.ts),
// min L_c(θ_c, Φ(D_t)), and served as one Dense layer with the standardisation folded into its weights.
import type { EpochMetrics } from '@graft/spec';
import type { MethodInput, MethodResult } from './method.ts';
import { logisticLoss } from './logistic-regression.ts';
import { squaredHingeLoss } from './linear-svm.ts';
import { classifierForward, lossAndAccuracy, validationMetrics } from './classifier-forward.ts';
import { linearProbeHead } from './linear-probe.ts';
import { SQUASH_MAX_IMAGES } from './feature-compression.ts';

export async function featureExtraction(input: MethodInput): Promise<MethodResult> {
  const { runner, train, validation, numClasses: k, hp, rand } = input;
  const loss = hp.classifier === 'svm' ? squaredHingeLoss : logisticLoss;
  const { head, probe, refit } = await linearProbeHead(runner, train, k, {
    loss,
    validation,
    batchSize: hp.batchSize,
    rand,
    signal: input.signal,
    onProgress: input.onProgress,
    mirrors: input.mirrors,
    // few labels on block ends are where the squash was measured to help; the last layer's features stay as they were
    compress: hp.features === 'block_ends' && train.count <= SQUASH_MAX_IMAGES,
  });
  const { C, fit } = probe;
  const forward = classifierForward(runner, head);
  const trainScore = await lossAndAccuracy(train, forward, hp.batchSize, probe.mirrors);
  const val = await validationMetrics(validation, forward, hp.batchSize, probe.mirrors);
  const epoch: EpochMetrics = {
    epoch: 1,
    loss: trainScore.loss,
    accuracy: trainScore.accuracy,
    valLoss: val.valLoss,
    valAccuracy: val.valAccuracy,
    extra: { C, folds: probe.folds, heldOutImages: probe.heldOutImages, objective: fit.loss, iterations: fit.iterations, converged: fit.converged ? 1 : 0 },
  };
  await input.onEpoch?.(epoch);
  return { epochs: [epoch], head, servedEpoch: epoch.epoch, refit, mirrors: { averaged: probe.mirrors, ...(probe.mirrorWhy ? { why: probe.mirrorWhy } : {}) } };
}

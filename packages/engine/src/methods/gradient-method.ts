// The frame shared by the gradient-trained methods (fine_tune, multi_task, DANN): the backbone suffix plus the
// method's heads learn under the two-rate optimiser inside the one training loop; the served head is returned,
// auxiliary heads (source head, domain discriminator) and optimiser state are freed on every path.
import type { LayerStack } from './heads.ts';
import type { ProbeRefit } from './linear-probe.ts';
import type { MethodInput, MethodResult } from './method.ts';
import { earlyStoppingPatience } from './hyperparameters.ts';
import { TwoRateOptimizer, type UpdateRule } from './two-rate-optimizer.ts';
import { runTrainingLoop, type TrainingLoopOptions } from './training-loop.ts';

export interface GradientMethodPlan extends Pick<TrainingLoopOptions, 'stepsPerEpoch' | 'beginEpoch' | 'validate'> {
  /** pooled features -> class logits, kept for the served model */
  served: LayerStack;
  /** heads that only help training */
  auxiliary?: LayerStack;
  /** the heads start as linear probes (LP-FT): the untrained state competes as epoch 0 */
  startsFromProbe?: boolean;
  /** the served head's probe refit, valid while early stopping serves epoch 0 (the probe, blocks untouched) */
  refitProbe?: ProbeRefit;
  /** 'adam' unless the method needs another (DANN: 'annealed-sgd') */
  updateRule?: UpdateRule;
  step(optimizer: TwoRateOptimizer, epoch: number, step: number, progress: number): ReturnType<TrainingLoopOptions['step']>;
}

export async function trainGradientMethod(input: MethodInput, plan: GradientMethodPlan): Promise<MethodResult> {
  const { runner, hp } = input;
  const headWeights = [...plan.served.trainableWeights, ...(plan.auxiliary?.trainableWeights ?? [])];
  const optimizer = new TwoRateOptimizer(runner, headWeights, hp.learningRate, plan.updateRule);
  try {
    const { epochs, bestEpoch } = await runTrainingLoop({
      epochs: hp.epochs,
      patience: earlyStoppingPatience(hp),
      stepsPerEpoch: plan.stepsPerEpoch,
      beginEpoch: plan.beginEpoch,
      step: (epoch, s, progress) => {
        optimizer.setProgress(progress);
        return plan.step(optimizer, epoch, s, progress);
      },
      // validation and early stopping read the blocks' variables
      validate: () => {
        optimizer.publish();
        return plan.validate();
      },
      weights: [...runner.trainableWeights, ...headWeights],
      validateStart: plan.startsFromProbe,
      signal: input.signal,
      onProgress: input.onProgress,
      onEpoch: input.onEpoch,
    });
    return { epochs, head: plan.served, servedEpoch: bestEpoch, refit: bestEpoch === 0 ? plan.refitProbe : undefined };
  } catch (err) {
    plan.served.dispose();
    throw err;
  } finally {
    optimizer.dispose();
    plan.auxiliary?.dispose();
  }
}

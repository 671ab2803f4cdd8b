// Defaults that give a good model when a user sends only `method` and `dataset`, resolved once per job and
// stored in the checkpoint's metadata so a run can be repeated exactly.
import { GraftError, type Hyperparameters, type Method } from '@graft/spec';

export interface ResolvedHyperparameters {
  /**
   * 10: with the prefix cached an epoch is cheap, and early stopping ends runs that converge sooner. DANN: 30, its
   * adversarial game needs many more steps before the features align (and it has no early stopping).
   */
  epochs: number;
  /** 32: small enough for the wasm 4 GB heap at 224 px with 2 trainable blocks, big enough for stable Adam steps. */
  batchSize: number;
  /**
   * 1e-3 for new heads (Adam's usual rate); backbone blocks train at learningRate/10 so pretrained features move
   * gently. DANN: 0.01, the paper's μ0 for its annealed SGD.
   */
  learningRate: number;
  imageSize: number;
  /** 2 for the gradient methods (adapts the last features at little cost); 0 for feature_extraction. */
  trainableBlocks: number | 'all';
  /** 0.2 of the labelled task data held out (stratified) when no validation set is given. */
  validationSplit: number;
  /** true for fine_tune (flip, crop, brightness views, cached); false elsewhere (the domains carry the variety). */
  augment: boolean;
  /** 3 epochs without a validation-loss improvement, then the best epoch's weights are restored; 0 = off. DANN: off. */
  earlyStoppingPatience: number;
  seed: number;
  /** feature_extraction: multinomial logistic regression (calibrated probabilities) unless `svm` is asked for. */
  classifier: 'logistic' | 'svm';
  /**
   * 'block_ends': the pooled output of every frozen block end concatenated with the last layer's (early blocks
   * keep the texture and shape cues the last one specialised away: Fashion-MNIST at 40 labels/class ~0.80
   * against 0.72 for feature_extraction). feature_extraction reads all of them; fine_tune and multi_task read the
   * frozen prefix's (cached once) beside the trained blocks' output, standardised. 'last_layer': the backbone's
   * pooled output alone, the default for domain_adaptation and for a wholly trained network (no frozen ends).
   */
  features: 'block_ends' | 'last_layer';
  /**
   * fine_tune / multi_task: LP-FT (Kumar et al. 2022): the new heads start as linear probes (feature_extraction's
   * classifier, C by cross-validation) before any block trains; fine-tuning keeps the probe's L2 and must beat the
   * probe's validation loss to replace it (early stopping can return to epoch 0). On by default with 'block_ends'
   * (Fashion-MNIST 40/class: 0.784 against 0.727 from a random head). With 'last_layer' off: there the unstandardised
   * probe lost at 10 labels/class (0.607 against 0.670). On Fashion-MNIST at 40 and 100 labels/class no fine-tuning
   * measured beat the probe on held-out images, so early stopping serves it: learning rates 1e-3 to 1e-5, mixup,
   * label smoothing, the head frozen or the blocks frozen, 1/2/4 blocks, 288 px, and the fine-tuned weights
   * averaged halfway back to the probe's (WiSE-FT: +0.004 over 3 seeds, within noise, for 30 % more time). On
   * InceptionV3 (the default on few labels) the probe is served too (40/class seed 1: 0.819 with 2 blocks, 0.818
   * with 1, 0.819 with patience 6); learning rate 1e-4 beat its validation loss and scored worse (0.803).
   */
  linearProbeFirst: boolean;
  /**
   * feature_extraction: each training image's horizontal mirror is a second row of the probe's training data, and
   * the served graph averages the class probabilities of the image and its mirror. By default decided by the
   * probe's own cross-validation (with against without, the same folds) up to 1,000 labelled images; off above.
   */
  flipViews: boolean;
  /** domain_adaptation: weight of the information-maximisation term on target predictions (dann.ts); 0 = off. */
  targetEntropyWeight: number;
  /** multi_task: weight of the target loss; domain_adaptation: the ramp's maximum (Ganin & Lempitsky use 1). */
  lambda: number;
}

/**
 * Default image size when none is given. feature_extraction: the backbone's native size, since it runs each
 * image forward once and nothing more (Fashion-MNIST at 224 px against 128 px: +2.1 points at 100 images per
 * class, +2.5 at 1,000, for ~2× the time; bench/engine/accuracy.ts). fine_tune and multi_task start from that
 * same probe on the frozen block ends (LP-FT), so they take its size too, capped at 224 px: the prefix runs once
 * per image and view, the epochs only the last blocks (Fashion-MNIST 40/class with the block-end head: 0.784 at
 * 224 against 0.763 for the probe at 128); inception_v3's 299 would triple the prefix cost. domain_adaptation
 * trains through its suffix every epoch on two domains: capped at 128 px, where a MobileNetV2 forward pass costs
 * ~3× less on CPU than at 224. The size is rounded up to what the backbone accepts.
 */
export function defaultImageSize(info: { nativeImageSize: number; imageSizes: { min: number; max: number; multipleOf: number } }, method: Method): number {
  const cap = method === 'feature_extraction' ? Infinity : method === 'domain_adaptation' ? 128 : 224;
  const wanted = Math.max(info.imageSizes.min, Math.min(info.nativeImageSize, cap));
  const m = info.imageSizes.multipleOf || 1;
  return Math.min(info.imageSizes.max, Math.ceil(wanted / m) * m);
}

/** DANN's information-maximisation weight by default. */
const DANN_TARGET_ENTROPY_WEIGHT = 0.3;

export function resolveHyperparameters(method: Method, hp: Hyperparameters | undefined, imageSize: number): ResolvedHyperparameters {
  const h = hp ?? {};
  const fe = method === 'feature_extraction';
  const dann = method === 'domain_adaptation';
  if (fe && h.trainableBlocks !== undefined && h.trainableBlocks !== 0) {
    throw new GraftError(
      'invalid_hyperparameters',
      'feature_extraction keeps the whole backbone frozen: drop trainableBlocks or set it to 0 (use fine_tune to train backbone blocks).',
    );
  }
  if (fe && h.augment) {
    throw new GraftError('invalid_hyperparameters', 'feature_extraction fits a linear classifier on fixed features; augment is not supported (use fine_tune).');
  }
  if (h.linearProbeFirst && method !== 'fine_tune' && method !== 'multi_task') {
    throw new GraftError('invalid_hyperparameters', `linearProbeFirst is for fine_tune and multi_task, whose heads sit on the backbone's features.`);
  }
  if (dann && h.features === 'block_ends') {
    throw new GraftError('invalid_hyperparameters', `features 'block_ends' is for feature_extraction, fine_tune and multi_task; domain_adaptation aligns the last layer's features.`);
  }
  if (h.features === 'block_ends' && h.trainableBlocks === 'all') {
    throw new GraftError('invalid_hyperparameters', `features 'block_ends' reads the pooled ends of frozen blocks: with trainableBlocks 'all' there are none (use features 'last_layer').`);
  }
  if (h.flipViews && !fe) {
    throw new GraftError('invalid_hyperparameters', `flipViews is for feature_extraction, whose linear classifier trains on the mirrored views and whose served model averages them.`);
  }
  const features = h.features ?? (dann || h.trainableBlocks === 'all' ? 'last_layer' : 'block_ends');
  return {
    epochs: h.epochs ?? (dann ? 30 : 10),
    batchSize: h.batchSize ?? 32,
    learningRate: h.learningRate ?? (dann ? 0.01 : 1e-3),
    imageSize,
    trainableBlocks: h.trainableBlocks ?? (fe ? 0 : 2),
    validationSplit: h.validationSplit ?? 0.2,
    augment: h.augment ?? method === 'fine_tune',
    earlyStoppingPatience: h.earlyStoppingPatience ?? (dann ? 0 : 3),
    // no seed given: draw one, and record it in the metadata so the run can still be repeated
    seed: h.seed ?? Math.floor(Math.random() * 2 ** 31),
    classifier: h.classifier ?? 'logistic',
    lambda: h.lambda ?? 1,
    features,
    linearProbeFirst: h.linearProbeFirst ?? (features === 'block_ends' && !fe),
    targetEntropyWeight: h.targetEntropyWeight ?? (dann ? DANN_TARGET_ENTROPY_WEIGHT : 0),
    flipViews: h.flipViews ?? false,
  };
}

/** The training loop's patience: null turns early stopping off. */
export function earlyStoppingPatience(hp: ResolvedHyperparameters): number | null {
  return hp.earlyStoppingPatience > 0 ? hp.earlyStoppingPatience : null;
}

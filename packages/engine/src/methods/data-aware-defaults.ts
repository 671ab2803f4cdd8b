// Data-aware defaults: what a job's data says about the hyperparameters a user left out (image size, trainable
// depth, epochs), each choice with a short reason, plus the reason behind every other resolved value. What the
// user set is never touched. The table the job shows (GET /jobs/:id resolvedHyperparameters) and the checkpoint
// metadata both come from explainHyperparameters().
import sharp from 'sharp';
import type { BackboneRef, Hyperparameters, Method } from '@graft/spec';
import type { DatasetItem, ImageDataset } from '@graft/datasets';
import { defaultImageSize, resolveHyperparameters, type ResolvedHyperparameters } from './hyperparameters.ts';
import { defaultBackboneId } from '../backbones/registry.ts';
import { SQUASH_MAX_IMAGES } from './feature-compression.ts';
import type { HeavyPasses } from '../runtime/heavy-passes.ts';
import { CV_MAX_IMAGES } from './linear-probe.ts';

/** What the defaults look at. */
export interface DataProfile {
  /** labelled images of the served task (DANN: the source domain), before the validation hold-out */
  labelledImages: number;
  /** the second domain's images: multi_task's labelled source, DANN's unlabelled target (0 otherwise) */
  otherImages: number;
  classes: number;
  /** median of the images' shorter sides in pixels, or null when unknown */
  nativeSide: number | null;
}

export interface Choice<T> {
  value: T;
  why: string;
}

/** Every resolved hyperparameter with its reason, and the registered backbone the job runs on (absent for a user's model). */
export type HyperparameterChoices = { [K in keyof ResolvedHyperparameters]: Choice<ResolvedHyperparameters[K]> } & { backbone?: Choice<string> };

interface BackboneSizes {
  id: string;
  nativeImageSize: number;
  imageSizes: { min: number; max: number; multipleOf: number };
}

/** Images whose header is read when the dataset did not record sizes: a median needs no more. */
const SIZE_SAMPLE = 64;

/**
 * Shorter sides of the images: every recorded size, and for images without one the headers of a sample (at most
 * SIZE_SAMPLE). All the recorded ones, not a sample: a sample of a list sorted by file name depends on the names,
 * and on a 28/64 px mix it swung the median (and with it DANN's image size) between two runs of the same images.
 */
export async function sampleNativeSides(items: DatasetItem[]): Promise<number[]> {
  const recorded = items.flatMap((it) => (it.width && it.height ? [Math.min(it.width, it.height)] : []));
  const unsized = items.filter((it) => !(it.width && it.height));
  const step = Math.max(1, Math.floor(unsized.length / SIZE_SAMPLE));
  const sample = unsized.filter((_, i) => i % step === 0).slice(0, SIZE_SAMPLE);
  const read = await Promise.all(
    sample.map(async (it) => {
      const meta = await sharp(it.data ?? it.file).metadata().catch(() => null);
      return meta?.width && meta.height ? Math.min(meta.width, meta.height) : null;
    }),
  );
  return [...recorded, ...read.filter((s): s is number => s !== null)];
}

/** The median of some sides, or null when there are none. */
export function medianSide(sides: number[]): number | null {
  if (sides.length === 0) return null;
  const known = [...sides].sort((a, b) => a - b);
  const mid = known.length >> 1;
  return known.length % 2 ? known[mid] : (known[mid - 1] + known[mid]) / 2;
}

/** Median shorter side of the images, or null when unknown. */
export async function medianNativeSide(items: DatasetItem[]): Promise<number | null> {
  return medianSide(await sampleNativeSides(items));
}

/** Native images up to this size train at 64 px with the whole network: cheap there, and far from ImageNet. */
const SMALL_IMAGE_SIDE = 48;
const SMALL_IMAGE_SIZE = 64;
/** From this many labelled images per class, 4 blocks train instead of 2 (full Fashion-MNIST: 0.914 vs 0.902). */
const DEEPER_PER_CLASS = 500;
/**
 * Whole-network image passes one default job may spend: 36,000 at 64 px took ~8.5 min on this 2-core machine
 * (DANN, 600 + 600 digits, 30 epochs; issue #10), which keeps a default job on ~1,000 images near 10 minutes.
 */
const WHOLE_NETWORK_PASSES = 36_000;

/**
 * Image passes (forward and back) through the trained blocks one default job may spend, for backbones whose
 * blocks cost far more than MobileNetV2's. InceptionV3's mixed9 + mixed10 at 224 px: 1.4 CPU-s a batch of 32
 * against MobileNetV2's 0.2 on ONNX Runtime (bench/engine/suffix-step.ts --backbone), so 4,000 passes are ~3 min of epochs:
 * 5 epochs of fine_tune on 1,000 labelled images, 2 of multi_task beside 1,000 source images. Fine-tuning
 * measured no better than the probe the head starts from on few labels (early stopping serves it), so more
 * epochs would buy time, not accuracy.
 */
const HEAVY_BLOCK_PASSES: Record<string, number> = { inception_v3: 4000 };

const gradientMethod = (m: Method) => m !== 'feature_extraction';

/**
 * The image size when the user gave none. feature_extraction runs each image once, at the backbone's native
 * size. DANN adapts the whole network to a far domain: images of at most 48 px (digits) train at 64 px, which
 * keeps their detail at a fraction of the cost at 128 (shifted digits: 0.69 against 0.17 with 2 blocks at 128).
 * fine_tune and multi_task take feature_extraction's size (at most 224 px): their head starts as its probe on
 * the frozen block ends, which reads 28 px Fashion-MNIST better at 224 than at 128 (0.784 against 0.763 at 40
 * labels/class), and the cached prefix runs once; 64 px with the whole network measured no better (0.710).
 */
export function dataImageSize(method: Method, b: BackboneSizes, profile: DataProfile): Choice<number> {
  const capped = defaultImageSize(b, method);
  if (!gradientMethod(method)) return { value: capped, why: `the backbone's native size: feature_extraction runs each image through it once` };
  if (method !== 'domain_adaptation') {
    return { value: capped, why: `${capped} px: the head starts as feature_extraction's probe on the frozen block ends, which separate small images better there than at 128 px; the prefix is cached once` };
  }
  if (profile.nativeSide === null) return { value: capped, why: `image sizes unknown: the ${capped} px cap for gradient methods` };
  const side = Math.round(profile.nativeSide);
  if (side > SMALL_IMAGE_SIDE) return { value: capped, why: `images are ~${side} px: the ${capped} px cap for gradient methods` };
  const value = Math.min(capped, Math.max(b.imageSizes.min, SMALL_IMAGE_SIZE));
  return { value, why: `images are ~${side} px: ${value} px keeps their detail and lets the whole network train at a fraction of the cost at ${capped} px` };
}

/** How many backbone blocks train. */
export function dataTrainableBlocks(method: Method, imageSize: number, profile: DataProfile): Choice<number | 'all'> {
  if (!gradientMethod(method)) return { value: 0, why: 'feature_extraction keeps the backbone frozen' };
  if (method === 'domain_adaptation' && imageSize <= SMALL_IMAGE_SIZE) {
    return {
      value: 'all',
      why: `at ${imageSize} px the whole network trains cheaply, and such small images are far from what the backbone saw (shifted digits: 0.69 with all blocks at 64 px against 0.17 with 2 at 128)`,
    };
  }
  const perClass = profile.labelledImages / Math.max(1, profile.classes);
  return perClass >= DEEPER_PER_CLASS
    ? { value: 4, why: `${Math.round(perClass)} labelled images per class support adapting 4 blocks` }
    : { value: 2, why: `${Math.round(perClass)} labelled images per class: the last 2 blocks adapt, the rest stay pretrained` };
}

/**
 * Epochs. With the whole network training, as many as a budget of image passes allows (an epoch of fine_tune
 * walks the training images once; multi_task and DANN walk the larger domain once, with a batch of each
 * domain per step), at most 20 (30 for DANN, whose adversarial game needs more steps), at least 10. With a
 * cached prefix an epoch is cheap: 20 below 1,000 labelled images, else 10, fewer on a backbone whose blocks
 * are costly (HEAVY_BLOCK_PASSES). Early stopping ends most sooner.
 */
export function dataEpochs(method: Method, profile: DataProfile, trainableBlocks: number | 'all' | undefined, validationSplit: number, backboneId?: string): Choice<number> {
  if (method === 'feature_extraction') return { value: 10, why: 'unused: the linear classifier is fitted to convergence' };
  const max = method === 'domain_adaptation' ? 30 : 20;
  const trained = Math.round(profile.labelledImages * (1 - validationSplit));
  const perEpoch = method === 'fine_tune' ? trained : 2 * Math.max(trained, profile.otherImages);
  if (trainableBlocks === 'all') {
    const value = Math.max(10, Math.min(max, Math.floor(WHOLE_NETWORK_PASSES / Math.max(1, perEpoch))));
    return { value, why: `${perEpoch} image passes per epoch through the whole network: ${value} epochs keep the job near 10 min here` };
  }
  if (method === 'domain_adaptation') return { value: 30, why: 'the adversarial game needs many steps before the features align' };
  const heavy = backboneId === undefined ? undefined : HEAVY_BLOCK_PASSES[backboneId];
  const cap = profile.labelledImages < 1000 ? 20 : 10;
  if (heavy !== undefined && heavy < cap * perEpoch) {
    const value = Math.max(1, Math.floor(heavy / Math.max(1, perEpoch)));
    return { value, why: `${perEpoch} image passes per epoch through ${backboneId}'s costly blocks: ${value} epoch${value > 1 ? 's' : ''} keep the job short, ended by early stopping` };
  }
  return cap === 20
    ? { value: 20, why: `${profile.labelledImages} labelled images make short epochs: up to 20, ended by early stopping` }
    : { value: 10, why: `${profile.labelledImages} labelled images: up to 10 epochs, ended by early stopping` };
}

/**
 * The backbone of feature_extraction, fine_tune and multi_task up to this many labelled images: InceptionV3. Its
 * pooled block ends separate few labels better than MobileNetV2's (1,000 held-out images: Fashion-MNIST 40
 * labels/class 0.812 ± 0.002 against 0.766 ± 0.012 over 3 seeds, 100/class 0.838 against 0.804, MNIST digits
 * 40/class 0.949 against 0.899), at ~6× MobileNetV2's feature CPU time (1,000 images: 136 s against 22 s), which
 * a few hundred images afford. fine_tune and multi_task start from that probe (LP-FT), at 224 px with the last
 * mixed blocks trainable (Fashion-MNIST 40/class through the service: 0.819 against 0.786 on MobileNetV2).
 * Above it the features dominate the job and MobileNetV2 keeps it short.
 */
const FEW_LABELS_MAX_IMAGES = 1000;
const FEW_LABELS_BACKBONE = 'inception_v3';

/**
 * The registered backbone when the job names none. An image size set without a backbone keeps MobileNetV2:
 * sizes are a backbone's (InceptionV3 takes none below 75 px, MobileNetV2 multiples of 32). DANN keeps
 * MobileNetV2: it trains deep on small images (the whole network at 64 px), where InceptionV3 cannot go. Where
 * the blocks train on TF.js (a GPU worker, GRAFT_ONNX=off), fine_tune and multi_task keep MobileNetV2 too.
 */
export function dataBackbone(method: Method, profile: DataProfile, user: Hyperparameters = {}, blocksTrainOn: HeavyPasses['runner'] = 'onnxruntime'): Choice<string> {
  if (method === 'domain_adaptation') return { value: defaultBackboneId, why: 'MobileNetV2, the default: its whole network adapts at a small image size, which InceptionV3 does not take' };
  if (user.imageSize !== undefined) return { value: defaultBackboneId, why: `MobileNetV2, the default: the image size you set is read as its size` };
  if (profile.labelledImages > FEW_LABELS_MAX_IMAGES) {
    return { value: defaultBackboneId, why: `${profile.labelledImages} labelled images: MobileNetV2's features cost ~6× less CPU than InceptionV3's, which would dominate the job` };
  }
  if (gradientMethod(method) && blocksTrainOn === 'tfjs') {
    // TF.js cannot differentiate a BatchNormalization without scale, and all of InceptionV3's are (tensorflow/tfjs#2868)
    return { value: defaultBackboneId, why: "MobileNetV2, the default: this worker trains blocks on TF.js, which has no gradient for InceptionV3's scale-less BatchNorms" };
  }
  const start = method === 'feature_extraction' ? '' : ", the probe this method's head starts from";
  return {
    value: FEW_LABELS_BACKBONE,
    why: `${profile.labelledImages} labelled images: InceptionV3's pooled block ends${start} separate few labels better than MobileNetV2's (Fashion-MNIST 40/class: ${method === 'feature_extraction' ? '0.812 against 0.766' : '0.819 against 0.786'}), and so few images afford its ~6× feature cost`,
  };
}

/**
 * Whether feature_extraction computes each image's mirror for its probe to judge: where the probe
 * cross-validates (up to CV_MAX_IMAGES labelled images), the mirrors are computed (twice the frozen feature pass,
 * which so few images afford) and the folds keep them only if they score better (linear-probe.ts); train()
 * records that verdict in place of this one. Above, off: nothing would judge them, and mirrors are wrong for
 * text and digits.
 */
export function dataFlipViews(profile: DataProfile): Choice<boolean> {
  if (profile.labelledImages > CV_MAX_IMAGES) {
    return { value: false, why: `${profile.labelledImages} labelled images: beyond the ${CV_MAX_IMAGES} where the probe's cross-validation can judge mirrored views, so none (they would double the feature pass)` };
  }
  return { value: true, why: "mirrored views computed: the probe's cross-validation keeps them only if they score better than without (settled once the features exist)" };
}

/** A profile that says nothing of the data: which values the data decides depends only on what the user left out. */
export const unknownProfile: Readonly<DataProfile> = { labelledImages: 0, otherImages: 0, classes: 2, nativeSide: null };

/**
 * The registered backbone a job runs on, and why: the one it names, else dataBackbone's pick from the data.
 * Undefined for a user's own model, and while the data is unknown (profile null) when the pick depends on it.
 */
export function backboneChoice(
  method: Method,
  backbone: BackboneRef | undefined,
  profile: DataProfile | null,
  user: Hyperparameters = {},
  blocksTrainOn?: HeavyPasses['runner'],
): Choice<string> | undefined {
  if (typeof backbone === 'string') return { value: backbone, why: 'set by you' };
  if (backbone !== undefined) return undefined;
  if (profile) return dataBackbone(method, profile, user, blocksTrainOn);
  // unknown data: known only when the fewest and the most labelled images pick the same backbone
  const [few, many] = [0, Infinity].map((labelledImages) => dataBackbone(method, { ...unknownProfile, labelledImages }, user, blocksTrainOn));
  return few.value === many.value ? few : undefined;
}

/**
 * The data-aware values for the fields the user left out, to merge UNDER the user's own hyperparameters.
 * `backbone` is undefined for a user's own model, whose input size is fixed by the model.
 */
export function dataAwareDefaults(method: Method, backbone: BackboneSizes | undefined, profile: DataProfile, user: Hyperparameters = {}): Partial<HyperparameterChoices> {
  const out: Partial<HyperparameterChoices> = {};
  if (user.imageSize === undefined && backbone) out.imageSize = dataImageSize(method, backbone, profile);
  const imageSize = user.imageSize ?? out.imageSize?.value;
  if (user.trainableBlocks === undefined && imageSize !== undefined) out.trainableBlocks = dataTrainableBlocks(method, imageSize, profile);
  const trainableBlocks = user.trainableBlocks ?? out.trainableBlocks?.value;
  if (user.epochs === undefined) out.epochs = dataEpochs(method, profile, trainableBlocks, user.validationSplit ?? 0.2, backbone?.id);
  if (user.flipViews === undefined && method === 'feature_extraction') out.flipViews = dataFlipViews(profile);
  return out;
}

/** Values of data-aware choices, as hyperparameters (under the user's). */
export function choiceValues(choices: Partial<HyperparameterChoices>): Hyperparameters {
  return Object.fromEntries(Object.entries(choices).map(([k, c]) => [k, c!.value])) as Hyperparameters;
}

/** Why a value that no data rule chose is what it is. */
const fixedReasons: Record<keyof ResolvedHyperparameters, (m: Method, hp: ResolvedHyperparameters) => string> = {
  epochs: () => 'the default',
  batchSize: () => '32: stable steps, and fits the wasm heap at 224 px',
  learningRate: (m) => (m === 'domain_adaptation' ? "0.01: the DANN paper's annealed SGD rate" : "0.001 for new heads (Adam); backbone blocks train at a tenth"),
  imageSize: () => "the backbone's input size",
  trainableBlocks: (m) => (m === 'feature_extraction' ? 'feature_extraction keeps the backbone frozen' : 'the default depth'),
  validationSplit: () => 'a stratified fifth held out to evaluate and stop early',
  augment: (m) => (m === 'fine_tune' ? 'flip/crop/brightness views add variety to few images' : 'off: the domains carry the variety'),
  earlyStoppingPatience: (m) => (m === 'domain_adaptation' ? 'off: the adversarial game needs all its epochs' : '3 epochs without a better validation loss'),
  seed: () => 'drawn at random and recorded, so the run can be repeated',
  classifier: () => 'logistic regression: calibrated probabilities',
  lambda: (m) => (m === 'multi_task' ? 'weight 1 of the target loss' : m === 'domain_adaptation' ? 'the ramp to 1 of the DANN paper' : 'unused by this method'),
  linearProbeFirst: (m, hp) => {
    if (m !== 'fine_tune' && m !== 'multi_task') return 'unused by this method';
    return hp.features === 'last_layer'
      ? 'off on the last layer: its unstandardised probe measured worse (Fashion-MNIST, 10 labels/class)'
      : "the head starts as feature_extraction's linear probe on the block ends, and training must beat it on the validation loss (Fashion-MNIST 40/class: 0.784 against 0.726 on main)";
  },
  flipViews: () => 'unused by this method',
  targetEntropyWeight: (m) => (m === 'domain_adaptation' ? 'confident, class-balanced target predictions guard small target sets against collapse' : 'unused by this method'),
  features: (m, hp) => {
    if (m === 'domain_adaptation') return 'the last layer, whose features the method aligns across domains';
    const squash = m === 'feature_extraction' || hp.linearProbeFirst ? `; on up to ${SQUASH_MAX_IMAGES} training images the classifier reads each squashed as x / (m + |x|), m its mean magnitude, which evens out their heavy tails` : '';
    if (m === 'feature_extraction' || hp.trainableBlocks === 0) return `pooled block ends: early blocks keep cues the last one lost${squash}`;
    return hp.trainableBlocks === 'all'
      ? 'the last layer: with the whole network training no block end stays frozen'
      : `pooled ends of the frozen blocks (cached once) beside the trained blocks' output: early blocks keep cues the last one lost${squash}`;
  },
};

/**
 * The values a job trains with and the reason for each: the data-aware choices under the user's own values,
 * then the fixed defaults. `imageSize` is the size the backbone was loaded at (train()), or the one it will be
 * loaded at (a preview).
 */
export function resolveWithReasons(
  method: Method,
  user: Hyperparameters,
  fromData: Partial<HyperparameterChoices>,
  imageSize: number,
): { hp: ResolvedHyperparameters; choices: HyperparameterChoices } {
  const hp = resolveHyperparameters(method, { ...choiceValues(fromData), ...user }, imageSize);
  return { hp, choices: explainHyperparameters(method, hp, user, fromData) };
}

/** Every resolved value with its reason: the user's own, a data-aware choice, or the fixed default. */
export function explainHyperparameters(method: Method, hp: ResolvedHyperparameters, user: Hyperparameters = {}, data: Partial<HyperparameterChoices> = {}): HyperparameterChoices {
  const entries = (Object.keys(hp) as (keyof ResolvedHyperparameters)[]).map((k) => {
    const why = (user as Record<string, unknown>)[k] !== undefined ? 'set by you' : (data[k]?.why ?? fixedReasons[k](method, hp));
    return [k, { value: hp[k], why }];
  });
  return Object.fromEntries(entries) as HyperparameterChoices;
}

/**
 * The roles a job's datasets play in its profile: the labelled set of the served task (DANN: the source), the
 * other domain (multi_task's labelled source, DANN's unlabelled target; undefined for the other methods), and
 * the sets whose image sizes count (DANN: both domains, the whole network adapts to them).
 */
export function profileRoles<T>(method: Method, target: T, source?: T): { labelled: T; other: T | undefined; sized: T[] } {
  if (method === 'domain_adaptation' && source !== undefined) return { labelled: source, other: target, sized: [source, target] };
  return { labelled: target, other: method === 'multi_task' ? source : undefined, sized: [target] };
}

/** The profile of a job's data. */
export async function profileData(method: Method, target: ImageDataset, source?: ImageDataset): Promise<DataProfile> {
  const { labelled, other, sized } = profileRoles(method, target, source);
  return {
    labelledImages: labelled.items.length,
    otherImages: other?.items.length ?? 0,
    classes: labelled.labels.length,
    nativeSide: await medianNativeSide(sized.flatMap((d) => d.items)),
  };
}

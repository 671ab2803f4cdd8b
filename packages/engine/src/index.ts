// @graft/engine: the transfer-learning core as a library (used by the worker, /predict and the `graft` CLI).
// Backbones, runtime, preprocessing and the activation cache come from the BACKBONE side; train(), the methods,
// metrics and checkpoints from the METHODS side.
export { initBackend, heavyPasses, nativeTfjsPackage, type BackendName } from './runtime/backend.ts';
export { chooseHeavyPasses, type HeavyPasses } from './runtime/heavy-passes.ts';
export { startTsWorker } from './runtime/ts-worker.ts';
export { listBackbones, loadBackbone, defaultBackboneId, type Backbone, type BackboneInfo, type BackboneFetch, type ListedBackbone, type SplitModel } from './backbones/index.ts';
export { decodeImage, defaultMaxPixels, decoderPreprocessing, resolvePreprocessing, type Preprocessing, type PixelNormalization } from './preprocess/index.ts';
export {
  computePrefixActivations,
  createRunner,
  idlePrefixPools,
  keepPrefixPoolsWarm,
  reservePrefixThreads,
  type WarmPoolLimits,
  type PrefixActivations,
  type PrefixActivationsInput,
  type PrefixRunner,
  type PrefixRunnerSpec,
  type PrefixRunnerFactory,
} from './activations/index.ts';
export { train, type TrainInput, type TrainedModel, type EngineLogger } from './train.ts';
export { loadCheckpoint, saveCheckpoint, buildServedModel, exportMetadata, type ModelMetadata } from './checkpoint/index.ts';
export { resolveHyperparameters, defaultImageSize, type ResolvedHyperparameters } from './methods/hyperparameters.ts';
export { explainHyperparameters, dataAwareDefaults, backboneChoice, unknownProfile, resolveWithReasons, profileRoles, sampleNativeSides, medianSide, type DataProfile, type HyperparameterChoices, type Choice } from './methods/data-aware-defaults.ts';
export { evaluate, accuracy, confusionMatrix, perClassMetrics, macroF1, topKAccuracy } from './metrics/index.ts';

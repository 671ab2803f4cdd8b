export { Predictor, rankPredictions, type Prediction, type PredictorOptions, type ScoredLabel } from './predict.ts';
export { ModelCache, type CachedModel, type ModelCacheOptions } from './model-cache.ts';
export { InferencePool, type InferencePoolOptions, type PoolStats } from './inference-pool.ts';
export { readImageRef, decodeBatch, type ImageRef, type ImageInputLimits } from './image-input.ts';
export { readCheckpoint, ONNX_FILE, type CheckpointFiles, type ModelJson, type ReadObject } from './checkpoint-files.ts';
export type { ServedMetadata } from './served-metadata.ts';
export type { ModelRunner, RunnerSource, RunnerOptions } from './runners/model-runner.ts';
export { defaultServingSettings, servingSettingsFromEnv, type ServingSettings } from './serving-settings.ts';
export { loadTfjsModel } from './runners/tfjs-runner.ts';

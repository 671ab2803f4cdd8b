// Limits and sizes of the serving side, with the defaults used when the service's config does not
// override them.
import type { ImageInputLimits } from './image-input.ts';

export interface ServingSettings extends ImageInputLimits {
  /** most images in one /predict request and in one forward pass */
  maxBatch: number;
  /** most bytes of one /predict request body (JSON or multipart) */
  maxBodyBytes: number;
  /** inference worker threads (each holds its own copy of the models it serves) */
  threads: number;
  /** models kept loaded */
  cacheMaxModels: number;
  /** bytes of checkpoints kept loaded (per copy) */
  cacheMaxBytes: number;
}

const MiB = 1024 * 1024;

export const defaultServingSettings: ServingSettings = {
  maxBatch: 64,
  maxBodyBytes: 64 * MiB,
  maxImageBytes: 10 * MiB,
  maxImagePixels: 25_000_000,
  urlTimeoutMs: 10_000,
  threads: 1,
  cacheMaxModels: 8,
  cacheMaxBytes: 512 * MiB,
};

const envNames: Record<keyof ServingSettings, string> = {
  maxBatch: 'PREDICT_MAX_BATCH',
  maxBodyBytes: 'PREDICT_MAX_BODY_BYTES',
  maxImageBytes: 'PREDICT_MAX_IMAGE_BYTES',
  maxImagePixels: 'PREDICT_MAX_IMAGE_PIXELS',
  urlTimeoutMs: 'PREDICT_URL_TIMEOUT_MS',
  threads: 'PREDICT_THREADS',
  cacheMaxModels: 'MODEL_CACHE_MAX_MODELS',
  cacheMaxBytes: 'MODEL_CACHE_MAX_BYTES',
};

/** The defaults overridden by PREDICT_* / MODEL_CACHE_* variables; a bad value fails at start, naming it. */
export function servingSettingsFromEnv(env: Record<string, string | undefined> = process.env): ServingSettings {
  const settings = { ...defaultServingSettings };
  for (const [key, name] of Object.entries(envNames) as [keyof ServingSettings, string][]) {
    const raw = env[name]?.trim();
    if (!raw) continue;
    if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Error(`${name}=${JSON.stringify(raw)} must be a whole number ≥ 1`);
    settings[key] = Number(raw);
  }
  return settings;
}

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

// One error shape everywhere (HTTP bodies and failed jobs) with a stable machine code.
import { Type, type Static } from '@sinclair/typebox';

export const ErrorCode = {
  // request errors
  validation: 'validation_error',
  invalidJson: 'invalid_json',
  notFound: 'not_found',
  conflict: 'conflict',
  payloadTooLarge: 'payload_too_large',
  unsupportedMediaType: 'unsupported_media_type',
  unknownBackbone: 'unknown_backbone',
  notReady: 'not_ready',
  unauthorized: 'unauthorized',
  forbidden: 'forbidden',
  quotaExceeded: 'quota_exceeded',
  rateLimited: 'rate_limited',
  // dataset errors (a job fails with these)
  downloadFailed: 'download_failed',
  notAnArchive: 'not_an_archive',
  pathTraversal: 'path_traversal',
  archiveTooLarge: 'archive_too_large',
  noImages: 'no_images',
  tooFewClasses: 'too_few_classes',
  imageTooLarge: 'image_too_large',
  badLabels: 'bad_labels',
  urlNotAllowed: 'url_not_allowed',
  // training errors
  backboneLoadFailed: 'backbone_load_failed',
  invalidHyperparameters: 'invalid_hyperparameters',
  trainingFailed: 'training_failed',
  cancelled: 'cancelled',
  /** a sweep trial stopped by early stopping (ASHA): its job is cancelled with this code */
  pruned: 'pruned',
  workerLost: 'worker_lost',
  // sweep errors
  trialsFailed: 'trials_failed',
  internal: 'internal_error',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code.' }),
      message: Type.String({ description: 'What went wrong and what to do about it.' }),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { $id: 'ErrorBody' },
);
export type ErrorBody = Static<typeof ErrorBody>;

export const JobError = Type.Object({ code: Type.String(), message: Type.String() }, { $id: 'JobError' });
export type JobError = Static<typeof JobError>;

/** An error whose code and message are meant for the user (a failed job's reason, an HTTP 4xx). */
export class GraftError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'GraftError';
  }
}

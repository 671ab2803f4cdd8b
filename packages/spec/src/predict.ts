// POST /predict: a succeeded job's model answers for a batch of images, in input order.
import { Type, type Static } from '@sinclair/typebox';

export const PredictImage = Type.Union(
  [
    Type.String({ minLength: 1, description: 'Base64 PNG, JPEG or WebP (a data: URL prefix is allowed).' }),
    Type.Object({ base64: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
    Type.Object({ url: Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) URL of the image.' }) }, { additionalProperties: false }),
  ],
  { description: 'One image: base64 text, { base64 } or { url }.' },
);
export type PredictImage = Static<typeof PredictImage>;

export const PredictRequest = Type.Object(
  {
    jobId: Type.String({ minLength: 1, maxLength: 64, description: 'A succeeded job.' }),
    images: Type.Array(PredictImage, { minItems: 1, description: 'At most the configured batch size (default 64).' }),
    topK: Type.Optional(Type.Integer({ minimum: 1, description: 'How many ranked classes per image (1..number of classes; default min(3, classes)).' })),
  },
  { additionalProperties: false },
);
export type PredictRequest = Static<typeof PredictRequest>;

export const ScoredLabel = Type.Object({ label: Type.String(), score: Type.Number({ minimum: 0, maximum: 1 }) });
export type ScoredLabel = Static<typeof ScoredLabel>;

export const PredictResponse = Type.Object({
  jobId: Type.String(),
  predictions: Type.Array(
    Type.Object({
      label: Type.String({ description: 'The most likely class.' }),
      score: Type.Number({ description: 'Its probability.' }),
      topK: Type.Array(ScoredLabel, { description: 'The topK most likely classes, best first.' }),
    }),
    { description: 'One per input image, in input order.' },
  ),
});
export type PredictResponse = Static<typeof PredictResponse>;

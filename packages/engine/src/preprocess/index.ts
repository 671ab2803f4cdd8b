export { decodeImage, defaultMaxPixels, normalizationOf, type Preprocessing } from './decode-image.ts';
export { decodeViews, type AugmentOptions } from './augment.ts';
export { decoderPreprocessing, namedPreprocessing, normalizePixels, resolvePreprocessing, type PixelNormalization } from './normalization.ts';

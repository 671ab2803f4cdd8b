export { decodeImage, defaultMaxPixels, type Preprocessing } from './decode-image.ts';
export { decodeViews, type AugmentOptions } from './augment.ts';

export { decodeImage, defaultMaxPixels, type Preprocessing } from './decode-image.ts';

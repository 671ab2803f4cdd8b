// Augmented views of one image for training: random crop (from a slightly larger cover resize),
// horizontal flip and brightness jitter. A view depends only on (seed, image index, view number), so
// the cached activations are the same whichever thread computed them and whatever the batch order.
import { decodeImage, normalizationOf, openImage, rawRgb, type ImageSource, type Preprocessing } from './decode-image.ts';
import { normalizePixels } from './normalization.ts';
import sharp from 'sharp';

export interface AugmentOptions {
  /** augmented views produced after the plain view 0 */
  augmentViews: number;
  seed: number;
  /** the image's position in its dataset (part of each view's random stream) */
  index: number;
  maxPixels?: number;
}

/** Enlargement before cropping: crops take 80–100 % of a side 1.25× the target, i.e. a 1–1.25× zoom. */
const enlarge = 1.25;
const minCropFraction = 0.8;
const brightnessJitter = 0.2;

/** A small stateless PRNG stream for one (seed, image, view): splitmix32 over a hashed key. */
function viewRandom(seed: number, index: number, view: number): () => number {
  let s = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35) ^ Math.imul(view + 1, 0x27d4eb2f)) >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
}

/**
 * The horizontal mirror of a decoded HWC image (side × side × 3), written into `out`: the flop of the pixels the
 * one decode produced, so the mirror of view 0 is exactly what the served graph's own mirror feeds the backbone.
 */
export function mirrorPixels(pixels: Float32Array, side: number, out: Float32Array = new Float32Array(pixels.length)): Float32Array {
  for (let y = 0; y < side; y++) {
    const row = y * side * 3;
    for (let x = 0; x < side; x++) {
      const from = row + (side - 1 - x) * 3;
      const to = row + x * 3;
      out[to] = pixels[from];
      out[to + 1] = pixels[from + 1];
      out[to + 2] = pixels[from + 2];
    }
  }
  return out;
}

/**
 * View 0 is exactly decodeImage's output (what /predict will feed the model); views 1…augmentViews are
 * random crops/flips/brightness of the same image. Each HWC, imageSize² × 3, normalised as `p` says.
 */
export async function decodeViews(input: ImageSource, p: Preprocessing, o: AugmentOptions): Promise<Float32Array[]> {
  const plain = await decodeImage(input, p, { maxPixels: o.maxPixels });
  if (o.augmentViews <= 0) return [plain];
  const s = p.imageSize;
  const big = Math.round(s * enlarge);
  const { data } = await rawRgb(openImage(input, o.maxPixels), (img) => img.resize(big, big, { fit: p.resize, position: 'centre' }));
  const views = [plain];
  const norm = normalizationOf(p);
  for (let v = 1; v <= o.augmentViews; v++) {
    const rand = viewRandom(o.seed, o.index, v);
    const side = Math.round(big * (minCropFraction + (1 - minCropFraction) * rand()));
    const left = Math.floor(rand() * (big - side + 1));
    const top = Math.floor(rand() * (big - side + 1));
    const flip = rand() < 0.5;
    const brightness = 1 + brightnessJitter * (2 * rand() - 1);
    let view = sharp(data, { raw: { width: big, height: big, channels: 3 } }).extract({ left, top, width: side, height: side }).resize(s, s, { fit: 'fill' });
    if (flip) view = view.flop();
    const raw = await view.raw().toBuffer();
    views.push(normalizePixels(raw, norm, brightness));
  }
  return views;
}

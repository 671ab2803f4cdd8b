// Many small square images enlarged to one size in a single sharp pipeline, with exactly the pixels each would get
// on its own: a pipeline costs ~1 ms of CPU per image whatever its size, most of a 28 px image's resize. The images
// are stacked into one column, each followed by copies of its own last row and the next image's first row, as
// libvips extends an image's edges; the kernel (lanczos3, 3 source pixels either side when enlarging) then sees
// what it would see alone. An image's rows start where the scale maps them onto whole output rows.
import sharp from 'sharp';

/** Rows of padding between two images: at least the kernel's reach on both sides, more to land on whole output rows. */
function stride(side: number, size: number): number | null {
  const reach = 3;
  for (let step = side + 2 * reach; step <= 2 * side; step++) if ((step * size) % side === 0) return step;
  return null;
}

/** Whether `side`-pixel squares can be enlarged to `size` together. */
export function batchable(side: number, size: number): boolean {
  return side < size && stride(side, size) !== null;
}

/**
 * Each image (side × side × channels bytes, all the same side and channels; `batchable(side, size)`) resized to
 * size × size with sharp's default kernel, as `sharp(image).resize(size, size)` would, as 8-bit RGB. Grey stays one
 * band through the resize (a third of the work; bands are resized independently) and is spread to three here.
 */
export async function enlargeSquares(images: Uint8Array[], side: number, channels: 1 | 3, size: number): Promise<Buffer[]> {
  const step = stride(side, size)!;
  const row = side * channels;
  const below = step - side - 3; // this image's last row repeated, then 3 of the next image's first
  const column = Buffer.alloc(images.length * step * row);
  images.forEach((image, k) => {
    const at = k * step * row;
    column.set(image, at);
    const last = image.subarray((side - 1) * row, side * row);
    const next = images[k + 1]?.subarray(0, row) ?? last;
    for (let r = 0; r < step - side; r++) column.set(r < below ? last : next, at + (side + r) * row);
  });
  const out = (step * size) / side;
  const { data, info } = await sharp(column, { raw: { width: side, height: images.length * step, channels } })
    .resize(size, images.length * out, { fit: 'fill' })
    .toColourspace(channels === 1 ? 'b-w' : 'srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== channels) throw new Error(`sharp wrote ${info.channels} channels of ${channels}`);
  return images.map((_, k) => {
    const one = data.subarray(k * out * size * channels, (k * out + size) * size * channels);
    if (channels === 3) return one;
    const rgb = Buffer.allocUnsafe(one.length * 3);
    for (let i = 0, j = 0; i < one.length; i++, j += 3) rgb[j] = rgb[j + 1] = rgb[j + 2] = one[i]!;
    return rgb;
  });
}

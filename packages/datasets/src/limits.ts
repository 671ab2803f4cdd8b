// Resource limits applied while fetching and unpacking a user's dataset. Every limit is checked against
// what actually arrives (bytes read, bytes written, entries seen, pixels in the header), never against
// sizes an archive declares about itself.
export interface DatasetLimits {
  /** bytes of the archive file itself (download or upload) */
  maxArchiveBytes: number;
  /** bytes actually produced by decompression, summed over all entries */
  maxUncompressedBytes: number;
  /** entries in the archive, directories included */
  maxEntries: number;
  /** width × height of any one image, read from its header before decoding */
  maxImagePixels: number;
}

const GiB = 1024 ** 3;

export const defaultLimits: DatasetLimits = {
  maxArchiveBytes: 2 * GiB,
  maxUncompressedBytes: 8 * GiB,
  maxEntries: 200_000,
  maxImagePixels: 50_000_000,
};

export function resolveLimits(overrides: Partial<DatasetLimits> = {}): DatasetLimits {
  const limits = { ...defaultLimits };
  for (const key of Object.keys(defaultLimits) as (keyof DatasetLimits)[]) {
    const v = overrides[key];
    if (v !== undefined) {
      if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`dataset limit ${key} must be a positive number, got ${v}`);
      limits[key] = v;
    }
  }
  return limits;
}

/** "2.0 GiB", "512 KiB": sizes in messages users read. */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${n.toFixed(1)} ${units[i]}`;
}

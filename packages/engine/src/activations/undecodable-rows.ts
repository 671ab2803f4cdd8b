// Images whose data the one decode refused (damaged or truncated past a sound header) leave the run the way a
// dataset's checks would have left them out: skipped with the reason, their activation rows dropped.
import path from 'node:path';
import type { DatasetItem, ImageDataset } from '@graft/datasets';
import { ErrorCode, GraftError } from '@graft/spec';
import type { PrefixActivations } from './prefix-pool.ts';

/** The activations without the undecodable rows, and the positions (in the original set) of those kept. */
export function dropUndecodable(a: PrefixActivations): { activations: PrefixActivations; kept: number[] | null } {
  if (a.undecodable.length === 0) return { activations: a, kept: null };
  const gone = new Set(a.undecodable.map((u) => u.index));
  const kept = Array.from({ length: a.count }, (_, i) => i).filter((i) => !gone.has(i));
  const row = a.shape.reduce((x, y) => x * y, 1);
  const views = a.views.map((v) => {
    const out = new Float32Array(kept.length * row);
    kept.forEach((from, to) => out.set(v.subarray(from * row, (from + 1) * row), to * row));
    return out;
  });
  return { activations: { views, shape: a.shape, count: kept.length, undecodable: [] }, kept };
}

/** `items` (or labels) reduced to the kept positions. */
export function keepItems<T>(items: T[], kept: number[] | null): T[] {
  return kept ? kept.map((i) => items[i]!) : items;
}

/** Records the refused images in their dataset's skipped list; fails like a dataset of no usable images when none is left. */
export function skipUndecodable(a: PrefixActivations, items: DatasetItem[], dataset: ImageDataset | undefined, what: string): void {
  if (a.undecodable.length === 0) return;
  const entry = (file: string) => (dataset ? path.relative(dataset.root, file).split(path.sep).join('/') : file);
  const skipped = a.undecodable.map((u) => ({ entry: entry(items[u.index]!.file), reason: u.reason }));
  dataset?.skipped.push(...skipped);
  if (skipped.length === items.length) {
    const examples = skipped.slice(0, 3).map((s) => `'${s.entry}': ${s.reason}`).join('; ');
    throw new GraftError(ErrorCode.noImages, `The ${what} has no usable images: all ${items.length} failed to decode, e.g. ${examples}`);
  }
}

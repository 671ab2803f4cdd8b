// From a URL or a local archive to a checked ImageDataset: fetch, detect the format, extract safely, read the
// labels, check every image. Any problem of the user's data ends as a GraftError saying what to fix.
// For training (decodeInEngine) the images stay in memory, checked by content and header only: the engine
// decodes each once, at the training size, and that decode refuses damaged data.
import { mkdir, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ErrorCode, GraftError } from '@graft/spec';
import { detectArchiveFormat } from './archive-format.ts';
import { throwIfCancelled } from './cancellation.ts';
import { ExtractionTarget } from './extract-entry.ts';
import { extractTar } from './extract-tar.ts';
import { extractZip } from './extract-zip.ts';
import { checkLocalArchive, fetchArchive, type DownloadTimeouts, type OpenS3 } from './fetch-archive.ts';
import type { DatasetItem, ImageDataset, SkippedEntry } from './image-dataset.ts';
import { acceptedImageFormats, checkImage } from './image-check.ts';
import { readLayout, type DatasetLayout } from './labels.ts';
import { resolveLimits, type DatasetLimits } from './limits.ts';

export interface PrepareOptions {
  /** empty or missing folder that receives the extracted files; removed again if preparation fails */
  destDir: string;
  /** false for an unlabelled dataset (e.g. a domain-adaptation target); labels found are still returned */
  requireLabels: boolean;
  /** default 2 when labels are required */
  minClasses?: number;
  limits?: Partial<DatasetLimits>;
  /** the only folder file:// URLs may point into (DATASETS_DIR); without it file:// is refused */
  allowedFileRoot?: string;
  openS3?: OpenS3;
  signal?: AbortSignal;
  timeouts?: Partial<DownloadTimeouts>;
  /**
   * Leave the pixel decode to the engine's one decode at the training size (which skips damaged images), and
   * keep up to `maxInMemoryBytes` of images in memory (DatasetItem.data) instead of writing them to disk.
   * Unset: every image is written to destDir and fully decoded once here (library use, `npm run graft`).
   */
  decodeInEngine?: { maxInMemoryBytes: number };
  /** called as each step begins ('download', 'extract and check'), so a caller can time them */
  onStage?: (step: string) => void | Promise<void>;
}

// The downloaded archive sits inside destDir under a hidden name, which extraction never writes (hidden entries
// are ignored), so one folder is all the caller has to clean up.
const downloadName = '.archive.download';

export async function prepareDataset(input: { url: string } | { archivePath: string }, opts: PrepareOptions): Promise<ImageDataset> {
  const limits = resolveLimits(opts.limits);
  const root = path.resolve(opts.destDir);
  await mkdir(root, { recursive: true });
  if ((await readdir(root)).length > 0) throw new Error(`prepareDataset needs an empty destDir, ${root} is not empty`);
  try {
    const download = path.join(root, downloadName);
    if ('url' in input) await opts.onStage?.('download');
    const archive =
      'url' in input
        ? await fetchArchive(input.url, download, { ...opts, maxArchiveBytes: limits.maxArchiveBytes })
        : await checkLocalArchive(input.archivePath, limits.maxArchiveBytes);
    throwIfCancelled(opts.signal);
    const format = await detectArchiveFormat(archive);
    await opts.onStage?.('extract and check');
    const target = new ExtractionTarget(root, limits, opts.decodeInEngine?.maxInMemoryBytes ?? 0);
    if (format === 'zip') await extractZip(archive, target, opts.signal);
    else await extractTar(archive, format === 'tar.gz', target, opts.signal);
    if (archive === download) await rm(download);
    throwIfCancelled(opts.signal);

    const layout = await readLayout(root, target.files, opts.requireLabels);
    const skipped = [...target.skipped, ...layout.skipped];
    const items = await checkImages(root, layout, target.contents, { maxPixels: limits.maxImagePixels, decode: !opts.decodeInEngine }, skipped, opts.signal);
    target.contents.clear(); // what is still needed is referenced by the items
    if (items.length === 0) throw noImages(skipped);
    const labels = [...new Set(items.flatMap((i) => (i.label === null ? [] : [i.label])))].sort();
    checkClasses(layout, labels, opts);
    return { root, items, labels, skipped };
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw err;
  }
}

async function checkImages(
  root: string,
  layout: DatasetLayout,
  contents: Map<string, Buffer>,
  check: { maxPixels: number; decode: boolean },
  skipped: SkippedEntry[],
  signal?: AbortSignal,
): Promise<DatasetItem[]> {
  const results: (DatasetItem | null)[] = new Array(layout.files.length).fill(null);
  const unusable: SkippedEntry[] = [];
  let next = 0;
  // sharp works on its own thread pool; a few files in flight keep it busy without flooding it.
  const worker = async () => {
    for (let i = next++; i < layout.files.length; i = next++) {
      throwIfCancelled(signal);
      const { rel, label } = layout.files[i]!;
      const file = path.join(root, rel);
      const data = contents.get(rel);
      const checked = await checkImage(data ?? file, rel, check.maxPixels, check);
      if ('reason' in checked) unusable.push({ entry: rel, reason: checked.reason });
      else results[i] = { file, label, ...(data ? { data } : {}), width: checked.width, height: checked.height };
    }
  };
  await Promise.all(Array.from({ length: Math.max(2, os.availableParallelism()) }, worker));
  skipped.push(...unusable.sort((a, b) => (a.entry < b.entry ? -1 : 1))); // finished in any order, reported in one
  return results.filter((r): r is DatasetItem => r !== null).sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

function checkClasses(layout: DatasetLayout, labels: string[], opts: PrepareOptions): void {
  if (!opts.requireLabels && opts.minClasses === undefined) return;
  const min = opts.minClasses ?? 2;
  if (layout.kind === 'flat') {
    throw new GraftError(
      ErrorCode.tooFewClasses,
      'the images are not sorted into classes; put each class in its own folder (<class>/<image>) or add a labels.csv with lines path,label',
    );
  }
  if (labels.length < min) {
    const found = labels.length === 0 ? 'no class' : `only ${labels.length} class${labels.length === 1 ? '' : 'es'} (${labels.map((l) => `'${l}'`).join(', ')})`;
    throw new GraftError(
      ErrorCode.tooFewClasses,
      `found ${found} with usable images, but training needs at least ${min}; ` +
        (layout.kind === 'csv' ? 'give the images in labels.csv at least that many different labels' : 'add a folder of images for each class (<class>/<image>)'),
    );
  }
}

function noImages(skipped: SkippedEntry[]): GraftError {
  const examples = skipped.slice(0, 3).map((s) => `'${s.entry}': ${s.reason}`).join('; ');
  return new GraftError(
    ErrorCode.noImages,
    `the archive contains no usable images (supported: ${acceptedImageFormats})` +
      (skipped.length > 0 ? `; ${skipped.length} file(s) were skipped, e.g. ${examples}` : '; it is empty'),
  );
}

// @graft/datasets: turns a user's archive (URL or local file) into a checked, labelled set of local images.
export { prepareDataset, type PrepareOptions } from './prepare-dataset.ts';
export type { DatasetItem, ImageDataset, SkippedEntry } from './image-dataset.ts';
export { defaultLimits, type DatasetLimits } from './limits.ts';
export { defaultTimeouts, type DownloadTimeouts, type OpenS3 } from './fetch-archive.ts';
export { archiveFormatOf, type ArchiveFormat } from './archive-format.ts';
export { undecodableReason } from './image-check.ts';
export { pngChunks, readIhdr, type PngChunk } from './png-chunks.ts';

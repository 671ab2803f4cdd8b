// The shape of a prepared dataset, shared by the worker and the engine (see the Dataset contract).
export interface DatasetItem {
  /**
   * absolute path of the image under `root`: the file itself, checked, or (with `data`) where it would be —
   * its name in messages
   */
  file: string;
  /** class name, or null when the archive carries no labels (allowed only when labels are not required) */
  label: string | null;
  /**
   * the image's bytes as they came out of the archive, when kept in memory (PrepareOptions.decodeInEngine):
   * format and header checked, pixels not yet decoded; the engine decodes them once, at the training size
   */
  data?: Uint8Array;
  /** native size in pixels, from the image header */
  width?: number;
  height?: number;
}

export interface SkippedEntry {
  /** path inside the archive */
  entry: string;
  /** why it is not part of the dataset, in words a user understands */
  reason: string;
}

export interface ImageDataset {
  /** local folder holding the extracted files; the caller deletes it when done */
  root: string;
  items: DatasetItem[];
  /** sorted unique class names, empty when unlabelled */
  labels: string[];
  /** entries that are not usable images: counted and reported, not fatal */
  skipped: SkippedEntry[];
}

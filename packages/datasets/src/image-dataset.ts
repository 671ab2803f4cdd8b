// The shape of a prepared dataset, shared by the worker and the engine (see the Dataset contract).
export interface DatasetItem {
  /** absolute path of an image on local disk whose header and pixels were checked */
  file: string;
  /** class name, or null when the archive carries no labels (allowed only when labels are not required) */
  label: string | null;
  /** pixel size from the header checked when the dataset was prepared (absent when built by other means) */
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

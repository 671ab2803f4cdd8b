// What serving needs from a checkpoint's metadata.json (written by the engine's checkpoint saver):
// the class labels in output order and the preprocessing the model was trained with.
export interface ServedPreprocessing {
  imageSize: number;
  pixelRange: [number, number];
  resize: 'cover' | 'fill';
}

export interface ServedMetadata {
  labels: string[];
  preprocessing: ServedPreprocessing;
  [key: string]: unknown;
}

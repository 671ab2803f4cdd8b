// What serving reads from a checkpoint's metadata.json (written by the engine's checkpoint saver):
// the class labels in output order and the preprocessing the model was trained with.
import type { ModelMetadata } from '@graft/engine';

export type ServedMetadata = Pick<ModelMetadata, 'labels' | 'preprocessing'>;

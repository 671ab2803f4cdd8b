// metadata.json: everything needed to serve and to reproduce a checkpoint besides its weights.
import { createRequire } from 'node:module';
import type { Evaluation, Method } from '@graft/spec';
import type { ResolvedHyperparameters } from '../methods/hyperparameters.ts';
import type { HyperparameterChoices } from '../methods/data-aware-defaults.ts';
import type { Preprocessing } from '../preprocess/index.ts';

export interface ModelMetadata {
  /** class names in the order of the model's output probabilities */
  labels: string[];
  /** how /predict must decode an image before the model sees it (decodeImage's options) */
  preprocessing: Preprocessing;
  backbone: { id: string; name: string; source: string };
  method: Method;
  hyperparameters: ResolvedHyperparameters;
  /** the same values, each with why it was chosen (set by the user, read from the data, or the default) */
  resolvedHyperparameters?: HyperparameterChoices;
  /** where the model was evaluated and how well, as in the job's metrics */
  evaluation: Evaluation;
  createdAt: string;
  graftVersion: string;
}

export const graftVersion: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/**
 * What an exported model file carries of its metadata (ONNX metadata_props), so the file alone says which
 * classes its outputs are and how to prepare an image for it: labels and preprocessing as JSON strings.
 */
export function exportMetadata(metadata: Pick<ModelMetadata, 'labels' | 'preprocessing'>): Record<string, string> {
  return { 'graft.labels': JSON.stringify(metadata.labels), 'graft.preprocessing': JSON.stringify(metadata.preprocessing) };
}

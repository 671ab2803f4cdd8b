// A checkpoint folder: model.json (TF.js layers format, loadable by tf.loadLayersModel), weights.bin and
// metadata.json. Written through our own IOHandler because tfjs-node's file:// handler is not available here.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { GraftError } from '@graft/spec';
import type { ModelMetadata } from './metadata.ts';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
export const METADATA_JSON = 'metadata.json';

/** An IOHandler that writes model.json + weights.bin into `dir`. */
export function folderSaveHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      await mkdir(dir, { recursive: true });
      const weightData = artifacts.weightData ? tf.io.concatenateArrayBuffers([artifacts.weightData].flat()) : new ArrayBuffer(0);
      const modelJson = {
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
      };
      await writeFile(path.join(dir, WEIGHTS_BIN), Buffer.from(weightData));
      await writeFile(path.join(dir, MODEL_JSON), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}

export async function saveCheckpoint(dir: string, model: tf.LayersModel, metadata: ModelMetadata): Promise<void> {
  await model.save(folderSaveHandler(dir));
  await writeFile(path.join(dir, METADATA_JSON), JSON.stringify(metadata, null, 2));
}

/** Load a checkpoint folder written by saveCheckpoint (or any TF.js layers model.json with metadata.json beside it). */
export async function loadCheckpoint(dir: string): Promise<{ model: tf.LayersModel; metadata: ModelMetadata }> {
  let modelJson: { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  let metadata: ModelMetadata;
  try {
    modelJson = JSON.parse(await readFile(path.join(dir, MODEL_JSON), 'utf8'));
    metadata = JSON.parse(await readFile(path.join(dir, METADATA_JSON), 'utf8'));
  } catch (err) {
    throw new GraftError('not_found', `No readable checkpoint in ${dir}: ${(err as Error).message}`);
  }
  const buffers = await Promise.all(modelJson.weightsManifest.flatMap((g) => g.paths).map((p) => readFile(path.join(dir, p))));
  const joined = Buffer.concat(buffers);
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: modelJson.modelTopology,
      weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights),
      weightData: joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength) as ArrayBuffer,
    }),
  );
  return { model, metadata };
}

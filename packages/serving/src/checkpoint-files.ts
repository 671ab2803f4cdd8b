// A job's checkpoint as it sits in storage (jobs/<jobId>/model/): TF.js layers model.json, the weight
// files its manifest names, and metadata.json (labels + preprocessing). Read by the model cache for
// serving and by the model download, so both see the same files.
import { GraftError } from '@graft/spec';
import type { ServedMetadata } from './served-metadata.ts';

/** Reads one object from storage; rejects when the key does not exist. */
export type ReadObject = (key: string) => Promise<Buffer>;

export interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
}

export interface CheckpointFiles {
  /** file name inside the checkpoint folder -> bytes, in the order a zip should list them */
  files: Map<string, Buffer>;
  modelJson: ModelJson;
  metadata: ServedMetadata;
  /** all weight files concatenated in manifest order, as tf.io.fromMemory wants them */
  weightData: ArrayBuffer;
  /** bytes held by this checkpoint (what the model cache counts against its budget) */
  byteLength: number;
}

export const ONNX_FILE = 'model.onnx';

export async function readCheckpoint(read: ReadObject, prefix: string): Promise<CheckpointFiles> {
  const files = new Map<string, Buffer>();
  const get = async (name: string) => {
    try {
      const bytes = await read(prefix + name);
      files.set(name, bytes);
      return bytes;
    } catch (err) {
      throw new GraftError('not_found', `The model's file ${name} is missing from storage (${prefix}${name}).`, { cause: String(err) });
    }
  };
  const modelJson = JSON.parse((await get('model.json')).toString('utf8')) as ModelJson;
  const metadata = JSON.parse((await get('metadata.json')).toString('utf8')) as ServedMetadata;
  const weightPaths = modelJson.weightsManifest.flatMap((group) => group.paths);
  const weights = [];
  for (const p of weightPaths) weights.push(await get(p));
  // model.onnx is optional: written beside the TF.js files when the exporter could convert the model
  try {
    files.set(ONNX_FILE, await read(prefix + ONNX_FILE));
  } catch {
    // absent: ONNX Runtime, when used, exports from the TF.js graph instead
  }
  const joined = Buffer.concat(weights);
  const weightData = joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength) as ArrayBuffer;
  let byteLength = 0;
  for (const bytes of files.values()) byteLength += bytes.byteLength;
  // the concatenated copy is held too
  byteLength += weightData.byteLength;
  return { files, modelJson, metadata, weightData, byteLength };
}

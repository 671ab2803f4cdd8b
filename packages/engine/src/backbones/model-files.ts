// Reads a model's files by URL: a TF.js layers model.json with the weight shards its manifest names (beside
// it), or any single file (an ONNX model). file:// paths are read from disk (inside an allowed folder when one
// is set); http(s):// goes through an injectable fetch, so the service can hand in its SSRF-safe fetcher.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as tf from '@tensorflow/tfjs';
import { ErrorCode, GraftError } from '@graft/spec';

/** The subset of fetch a backbone download needs; the global fetch by default. */
export type BackboneFetch = (url: string) => Promise<Response>;

export interface ModelFileOptions {
  /** where a file:// URL may point; unset = anywhere (library use) */
  allowedFileRoot?: string;
  fetch?: BackboneFetch;
}

/** Refuses schemes other than http(s) and file://, and files outside the allowed folder. */
export function checkModelUrl(url: string, allowedFileRoot: string | undefined): void {
  if (/^https?:\/\//i.test(url)) return;
  if (url.startsWith('file://')) {
    const file = path.resolve(fileURLToPath(url));
    if (allowedFileRoot && path.relative(path.resolve(allowedFileRoot), file).startsWith('..')) {
      throw new GraftError(ErrorCode.urlNotAllowed, `backbone file ${file} is outside the allowed folder`);
    }
    return;
  }
  throw new GraftError(ErrorCode.urlNotAllowed, `backbone url must be http(s):// or file://, got ${url.slice(0, 40)}`);
}

/** The bytes at a file:// or http(s):// URL (checked with checkModelUrl first). */
export async function readModelFile(url: string, opts: ModelFileOptions = {}): Promise<Buffer> {
  checkModelUrl(url, opts.allowedFileRoot);
  if (url.startsWith('file://')) {
    try {
      return await readFile(fileURLToPath(url));
    } catch {
      // never echo more than the file name: the path came from a user
      throw new Error(`cannot read ${path.basename(fileURLToPath(url))}`);
    }
  }
  const res = await (opts.fetch ?? fetch)(url);
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

export interface LayersModelFiles {
  modelTopology: Record<string, unknown> | undefined;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weightData: ArrayBuffer;
}

/** model.json and the shards of its weights manifest, joined in manifest order. */
export async function readLayersModel(url: string, opts: ModelFileOptions = {}): Promise<LayersModelFiles> {
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse((await readModelFile(url, opts)).toString('utf8')) as tf.io.ModelJSON;
  } catch (err) {
    if (err instanceof GraftError) throw err;
    throw new Error(err instanceof SyntaxError ? `${path.basename(new URL(url).pathname)} is not a model.json` : (err as Error).message);
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of json.weightsManifest ?? []) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      const shard = new URL(p, url);
      if (shard.protocol === 'file:' && path.relative(path.dirname(fileURLToPath(url)), fileURLToPath(shard)).startsWith('..')) {
        throw new Error(`weights path ${p} leaves the model folder`);
      }
      buffers.push(await readModelFile(shard.href, opts));
    }
  }
  const all = Buffer.concat(buffers);
  return { modelTopology: json.modelTopology as Record<string, unknown> | undefined, weightSpecs: specs, weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer };
}

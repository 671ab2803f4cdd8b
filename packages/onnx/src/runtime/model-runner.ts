// The one call the engine makes for a frozen prefix or a served model: export it, open it in ONNX
// Runtime, or return null (logged) so the caller keeps running it on TF.js.
import type * as tf from '@tensorflow/tfjs';
import { exportToOnnx, type ExportOptions } from '../export/graph-exporter.ts';
import { UnsupportedLayerError } from '../export/layer-export.ts';
import { createOnnxRunner, loadOrt, type OnnxRunner, type OnnxRunnerOptions } from './ort-session.ts';

export async function createModelRunner(
  model: tf.LayersModel,
  opts: OnnxRunnerOptions & ExportOptions = {},
): Promise<{ runner: OnnxRunner; onnx: Uint8Array } | null> {
  if (!(await loadOrt(opts.logger))) return null;
  let onnx: Uint8Array;
  try {
    onnx = exportToOnnx(model, opts);
  } catch (err) {
    if (!(err instanceof UnsupportedLayerError)) throw err;
    opts.logger?.warn({ path: 'tfjs', layer: err.layerName, layerClass: err.className }, `${err.message}; this model runs on TF.js`);
    return null;
  }
  const runner = await createOnnxRunner(onnx, opts);
  return runner && { runner, onnx };
}

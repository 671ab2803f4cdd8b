// Where things live in the store, in one place: the API writes uploads, the worker writes checkpoints and
// serving reads them back under these keys.

/** An uploaded dataset archive (POST /datasets). */
export const datasetArchiveKey = (datasetId: string): string => `datasets/${datasetId}/archive`;

/** Everything stored for one dataset, for clean-up. */
export const datasetPrefix = (datasetId: string): string => `datasets/${datasetId}/`;

/** A job's checkpoint folder: model.json, weights.bin, metadata.json and model.onnx. */
export const checkpointPrefix = (jobId: string): string => `jobs/${jobId}/model/`;

export { saveCheckpoint, loadCheckpoint, folderSaveHandler } from './checkpoint-files.ts';
export { buildServedModel } from './served-model.ts';
export type { ModelMetadata } from './metadata.ts';

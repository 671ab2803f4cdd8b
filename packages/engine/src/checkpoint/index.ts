export { saveCheckpoint, loadCheckpoint, folderSaveHandler } from './checkpoint-files.ts';
export { buildServedModel } from './served-model.ts';
export type { ModelMetadata, Preprocessing } from './metadata.ts';

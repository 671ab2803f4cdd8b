export { saveCheckpoint, loadCheckpoint, folderSaveHandler } from './checkpoint-files.ts';
export { buildServedModel } from './served-model.ts';
export { exportMetadata, type ModelMetadata } from './metadata.ts';

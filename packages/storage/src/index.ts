export { type Storage, StorageNotFoundError } from './storage.ts';
export { LocalStorage } from './local-storage.ts';
export { S3Storage, createS3Client, openS3Object } from './s3-storage.ts';
export { openStorage } from './open-storage.ts';
export { uploadFolder, downloadFolder, downloadFile } from './folders.ts';
export { datasetArchiveKey, datasetPrefix, checkpointPrefix } from './layout.ts';

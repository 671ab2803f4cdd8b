// Chooses the backend from STORAGE_URL: file://<folder> (relative to the working directory) or s3://bucket[/prefix].
import path from 'node:path';
import type { Config } from '@graft/config';
import { LocalStorage } from './local-storage.ts';
import { createS3Client, S3Storage } from './s3-storage.ts';
import type { Storage } from './storage.ts';

export function openStorage(config: Pick<Config, 'storageUrl' | 's3'>): Storage {
  const url = config.storageUrl;
  if (url.startsWith('file://')) {
    // `file://./var/storage` is not a valid file URL path, but it is what people write: accept both forms.
    const rest = decodeURIComponent(url.slice('file://'.length));
    return new LocalStorage(path.resolve(rest || '.'));
  }
  if (url.startsWith('s3://')) {
    const [bucket, ...prefix] = url.slice('s3://'.length).split('/');
    if (!bucket) throw new Error(`STORAGE_URL ${url} names no bucket`);
    const keyPrefix = prefix.filter(Boolean).join('/');
    return new S3Storage(createS3Client(config.s3), bucket, keyPrefix ? `${keyPrefix}/` : '');
  }
  throw new Error(`STORAGE_URL ${url} must start with file:// or s3://`);
}

// One interface for every place Graft keeps files (uploaded datasets, checkpoints). Keys are relative
// '/'-separated paths such as `jobs/<id>/model/model.json`; each backend maps them to its own namespace.
import type { Readable } from 'node:stream';

export interface Storage {
  /** Where this store lives, for logs (no credentials). */
  readonly description: string;
  /** Writes the object; readers never see a partly written one. Returns its size in bytes. */
  put(key: string, body: Buffer | Readable): Promise<number>;
  /** Streams the object; rejects with StorageNotFoundError if it does not exist. */
  get(key: string): Promise<Readable>;
  exists(key: string): Promise<boolean>;
  /** Keys under a prefix (`jobs/x/` lists that folder, recursively), sorted. */
  list(prefix: string): Promise<string[]>;
  /** Deletes every object under the prefix (or the one key); missing objects are not an error. */
  deletePrefix(prefix: string): Promise<void>;
}

export class StorageNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`no object at '${key}'`);
    this.name = 'StorageNotFoundError';
  }
}

/** Refuses keys that could escape the store's namespace (../, absolute paths, backslashes, empty parts). */
export function checkKey(key: string): string {
  const parts = key.split('/');
  if (!key || key.startsWith('/') || key.includes('\\') || key.includes('\0') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new Error(`invalid storage key '${key}'`);
  }
  return key;
}

/** Like checkKey, but a prefix may be empty or end with '/'. */
export function checkPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  checkKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}

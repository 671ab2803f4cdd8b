// Moving whole folders (a checkpoint is model.json + weights + metadata) between disk and any Storage.
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Storage } from './storage.ts';

/** Uploads every file under dir to `<prefix>/<relative path>`; returns the keys written. */
export async function uploadFolder(storage: Storage, dir: string, prefix: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const keys: string[] = [];
  for (const e of entries.filter((x) => x.isFile())) {
    const rel = path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/');
    const key = `${prefix.replace(/\/$/, '')}/${rel}`;
    await storage.put(key, await readFile(path.join(e.parentPath, e.name)));
    keys.push(key);
  }
  return keys.sort();
}

/** Downloads every object under `<prefix>/` into dir, keeping relative paths; returns the files written. */
export async function downloadFolder(storage: Storage, prefix: string, dir: string): Promise<string[]> {
  const base = `${prefix.replace(/\/$/, '')}/`;
  const files: string[] = [];
  for (const key of await storage.list(base)) {
    const file = path.join(dir, ...key.slice(base.length).split('/'));
    await downloadFile(storage, key, file);
    files.push(file);
  }
  return files;
}

/** Downloads one object to a local file. */
export async function downloadFile(storage: Storage, key: string, file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await pipeline(await storage.get(key), createWriteStream(file));
}

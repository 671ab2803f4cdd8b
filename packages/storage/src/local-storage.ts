// Storage in a folder on disk: the zero-setup default (STORAGE_URL=file://./var/storage).
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { checkKey, checkPrefix, StorageNotFoundError, type Storage } from './storage.ts';

export class LocalStorage implements Storage {
  readonly description: string;

  constructor(readonly root: string) {
    this.root = path.resolve(root);
    this.description = `file://${this.root}`;
  }

  private file(key: string): string {
    return path.join(this.root, ...checkKey(key).split('/'));
  }

  async put(key: string, body: Buffer | Readable): Promise<number> {
    const file = this.file(key);
    await mkdir(path.dirname(file), { recursive: true });
    // Write beside the target and rename: a crash mid-upload leaves no half object under the key.
    const tmp = `${file}.${randomBytes(6).toString('hex')}.partial`;
    try {
      await pipeline(Buffer.isBuffer(body) ? Readable.from([body]) : body, createWriteStream(tmp));
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return (await stat(file)).size;
  }

  async get(key: string): Promise<Readable> {
    const file = this.file(key);
    if (!(await this.exists(key))) throw new StorageNotFoundError(key);
    return createReadStream(file);
  }

  async exists(key: string): Promise<boolean> {
    const s = await stat(this.file(key)).catch(() => null);
    return s?.isFile() ?? false;
  }

  async list(prefix: string): Promise<string[]> {
    checkPrefix(prefix);
    const files = await readdir(this.root, { recursive: true, withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    });
    return files
      .filter((f) => f.isFile() && !f.name.endsWith('.partial'))
      .map((f) => path.relative(this.root, path.join(f.parentPath, f.name)).split(path.sep).join('/'))
      .filter((k) => k.startsWith(prefix))
      .sort();
  }

  async deletePrefix(prefix: string): Promise<void> {
    checkPrefix(prefix);
    if (prefix === '' ) throw new Error('refusing to delete the whole store');
    if (prefix.endsWith('/')) {
      await rm(this.file(prefix.slice(0, -1)), { recursive: true, force: true });
      return;
    }
    await Promise.all((await this.list(prefix)).map((k) => rm(this.file(k), { force: true })));
  }
}

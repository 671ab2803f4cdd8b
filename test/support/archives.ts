// Archives for dataset tests, including hostile ones: tar entries written header by header (so names, types and
// links can be anything, as an attacker would make them), tar.gz of a real folder, and images whose headers lie.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { deflateSync, crc32, gzipSync } from 'node:zlib';
import * as tar from 'tar';
import yazl from 'yazl';
import { writeImageFolder, zipEntries, type FolderDatasetOptions } from './images.ts';

export interface TarEntry {
  name: string;
  data?: Buffer;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'FIFO';
  linkpath?: string;
}

/** A tar stream with exactly these entries, names unchecked; gzipped on request. */
export function tarEntries(entries: TarEntry[], opts: { gzip?: boolean } = {}): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0);
    const type = e.type ?? 'File';
    const header = new tar.Header({
      path: e.name,
      type,
      size: type === 'File' ? data.length : 0,
      mode: type === 'Directory' ? 0o755 : 0o644,
      mtime: new Date(0),
      linkpath: e.linkpath,
    });
    // names that do not fit the classic header travel in a PAX extended header first, as real tar writers do
    if (header.encode()) blocks.push(new tar.Pax({ path: e.name, linkpath: e.linkpath, mtime: new Date(0) }).encode());
    blocks.push(header.block!);
    if (type === 'File' && data.length > 0) {
      blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  const raw = Buffer.concat(blocks);
  return opts.gzip ? gzipSync(raw) : raw;
}

/** An ImageFolder dataset written to disk and packed by the `tar` package the way `tar -c(z)f` would. */
export async function makeImageFolderTar(opts: FolderDatasetOptions & { gzip?: boolean } = {}): Promise<Buffer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'graft-tar-src-'));
  try {
    await writeImageFolder(dir, opts);
    const stream = tar.c({ cwd: dir, gzip: opts.gzip ?? false, portable: true }, opts.topFolder ? [opts.topFolder] : (await readdir(dir)).sort());
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A zip with one symbolic link entry (unix mode 0120777) next to the given regular entries. */
export function zipWithSymlink(files: Map<string, Buffer>, link: { name: string; target: string }): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, data] of files) zip.addBuffer(data, name);
  zip.addBuffer(Buffer.from(link.target), link.name, { mode: 0o120777 });
  zip.end();
  return collect(zip.outputStream);
}

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * A pixel bomb: a valid PNG header announcing width×height greyscale pixels followed by a few bytes of image data.
 * Decoding it would need width×height bytes; the file itself is ~100 bytes.
 */
export function pngClaiming(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(width + 1))), // one scanline of the many announced
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * Like zipEntries, but the names are written byte for byte even where yazl refuses them ('../x', '/abs', 'a\\b'):
 * the zip is built with same-length placeholder names that are then overwritten in place.
 */
export async function zipWithRawNames(entries: Map<string, Buffer>): Promise<Buffer> {
  const safe = new Map<string, Buffer>();
  const rawNames = new Map<string, Buffer>();
  for (const [name, data] of entries) {
    const raw = Buffer.from(name);
    const placeholder = `z${safe.size}`.padEnd(raw.length, 'q');
    if (placeholder.length !== raw.length) throw new Error(`name too short for a placeholder: ${name}`);
    safe.set(placeholder, data);
    rawNames.set(placeholder, raw);
  }
  const zip = await zipEntries(safe);
  for (const [placeholder, raw] of rawNames) {
    const needle = Buffer.from(placeholder);
    for (let at = zip.indexOf(needle); at >= 0; at = zip.indexOf(needle, at + 1)) raw.copy(zip, at);
  }
  return zip;
}

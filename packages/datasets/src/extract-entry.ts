// What the zip and tar extractors share: deciding whether an entry name is safe and wanted, where it lands
// on disk, and writing its bytes while counting what decompression really produces (archive headers can lie).
import { setMaxListeners } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ErrorCode, GraftError } from '@graft/spec';
import type { SkippedEntry } from './image-dataset.ts';
import { formatBytes, type DatasetLimits } from './limits.ts';

export interface ExtractResult {
  /** regular files written under the destination folder, as relative POSIX paths */
  files: string[];
  skipped: SkippedEntry[];
}

// Files that archivers and operating systems add on their own; never part of anyone's dataset.
const junkNames = new Set(['__macosx', '.ds_store', 'thumbs.db', 'desktop.ini']);

/** Counts bytes that decompression really produced and stops the extraction at the limit. */
export class ByteBudget {
  private used = 0;

  constructor(private readonly limit: number) {}

  add(n: number): void {
    this.used += n;
    if (this.used > this.limit) {
      throw new GraftError(
        ErrorCode.archiveTooLarge,
        `the archive unpacks to more than ${formatBytes(this.limit)}, the limit for a dataset; use fewer or smaller images`,
      );
    }
  }

  /** A pass-through stream that counts every byte flowing through it. */
  meter(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        try {
          this.add(chunk.length);
          done(null, chunk);
        } catch (err) {
          done(err as Error);
        }
      },
    });
  }
}

/** The folder an archive is unpacked into, with the limits and bookkeeping of one extraction. */
export class ExtractionTarget implements ExtractResult {
  readonly files: string[] = [];
  readonly skipped: SkippedEntry[] = [];
  private readonly claimedFiles = new Set<string>();
  private readonly claimedDirs = new Set<string>();
  private readonly createdDirs = new Set<string>();
  private readonly written: ByteBudget;
  /** entries kept in memory instead of on disk (see `inMemoryBytes`), by relative path */
  readonly contents = new Map<string, Buffer>();
  private inMemory = 0;
  // Ends writes still waiting for data when an extraction fails, so that no file stays open.
  private readonly writes = new AbortController();
  private entries = 0;

  /**
   * `inMemoryBytes`: how many bytes of entries may stay in memory (the rest, and labels.csv, go to disk as
   * usual); 0 writes everything to disk.
   */
  constructor(
    readonly destDir: string,
    readonly limits: Pick<DatasetLimits, 'maxEntries' | 'maxUncompressedBytes'>,
    private readonly inMemoryBytes = 0,
  ) {
    this.written = new ByteBudget(limits.maxUncompressedBytes);
    // Each write in flight listens on it; tar starts the next entry while the last one is still being flushed.
    setMaxListeners(0, this.writes.signal);
  }

  countEntry(): void {
    if (++this.entries > this.limits.maxEntries) throw tooManyEntries(this.limits.maxEntries);
  }

  /**
   * Decides where a file entry goes: its path segments, or null when it is junk (ignored silently) or collides
   * with an earlier entry (recorded as skipped). Throws path_traversal for names that would land outside.
   */
  claimFile(name: string): string[] | null {
    const segments = entrySegments(name);
    if (!segments || segments.length === 0) return null;
    const reason = this.unwritable(segments);
    if (reason) {
      this.skipped.push({ entry: name, reason });
      return null;
    }
    this.claimedFiles.add(segments.join('/'));
    for (let i = 1; i < segments.length; i++) this.claimedDirs.add(segments.slice(0, i).join('/'));
    return segments;
  }

  /** Why a file cannot be written at this path, decided here rather than left to fail in the file system. */
  private unwritable(segments: string[]): string | null {
    const rel = segments.join('/');
    if (segments.some((seg) => Buffer.byteLength(seg) > 255) || Buffer.byteLength(path.join(this.destDir, rel)) > 4000) {
      return 'its name is too long for a file system; shorten the file or folder name';
    }
    if (this.claimedFiles.has(rel)) return 'duplicate entry; the first copy was used';
    if (this.claimedDirs.has(rel)) return 'a folder of the same name is already in the archive';
    if (segments.some((_, i) => i > 0 && this.claimedFiles.has(segments.slice(0, i).join('/')))) {
      return 'a file of the same name as one of its folders is already in the archive';
    }
    return null;
  }

  /** Whether a claimed entry's bytes would stay in memory: while the in-memory budget lasts, and never labels.csv. */
  keepsInMemory(segments: string[]): boolean {
    return this.inMemory < this.inMemoryBytes && segments.at(-1)!.toLowerCase() !== 'labels.csv';
  }

  /** Keeps an entry already decompressed whole (`keepsInMemory` said so), counted against the byte budget. */
  keep(bytes: Buffer, segments: string[]): void {
    this.written.add(bytes.length);
    // its own (unpooled) memory: an image handed to a worker thread is copied with its whole backing buffer
    let own = bytes;
    if (bytes.byteLength !== bytes.buffer.byteLength) bytes.copy((own = Buffer.allocUnsafeSlow(bytes.length)));
    this.store(own, segments.join('/'));
  }

  private store(bytes: Buffer, rel: string): void {
    // the budget is checked before an entry, so it can be overrun by one entry; beyond it, entries go to disk
    this.inMemory += bytes.length;
    this.contents.set(rel, bytes);
    this.files.push(rel);
  }

  /** Writes a claimed entry's bytes (to memory while the budget lasts, else to disk); budget and stream errors propagate. */
  async write(source: Readable | AsyncIterable<Buffer>, segments: string[]): Promise<void> {
    const rel = segments.join('/');
    if (this.keepsInMemory(segments)) {
      const chunks: Buffer[] = [];
      await pipeline(source, this.written.meter(), async (metered: AsyncIterable<Buffer>) => {
        for await (const chunk of metered) chunks.push(chunk);
      }, { signal: this.writes.signal });
      const bytes = Buffer.allocUnsafeSlow(chunks.reduce((a, c) => a + c.length, 0));
      let at = 0;
      for (const c of chunks) at += c.copy(bytes, at);
      this.store(bytes, rel);
      return;
    }
    const target = path.join(this.destDir, ...segments);
    const dir = path.dirname(target);
    if (!this.createdDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.createdDirs.add(dir);
    }
    // 'wx': never follow or replace anything already there.
    await pipeline(source, this.written.meter(), createWriteStream(target, { flags: 'wx' }), { signal: this.writes.signal });
    this.files.push(rel);
  }

  abortWrites(): void {
    this.writes.abort();
  }
}

export function tooManyEntries(max: number): GraftError {
  return new GraftError(
    ErrorCode.archiveTooLarge,
    `the archive has more than ${max} entries, the limit for a dataset; split it or remove files that are not images`,
  );
}

/**
 * Splits an entry name into path segments, or throws path_traversal for names that would land outside the
 * destination. Returns null for junk (macOS resource forks, hidden files and folders).
 */
export function entrySegments(name: string): string[] | null {
  if (name.includes('\0')) {
    throw new GraftError(
      ErrorCode.pathTraversal,
      `entry '${name.replace(/\0/g, '\\0')}' has a NUL character in its name; re-create the archive with ordinary file names`,
    );
  }
  const normalised = name.replace(/\\/g, '/');
  if (normalised.startsWith('/') || /^[a-zA-Z]:/.test(normalised)) {
    throw new GraftError(
      ErrorCode.pathTraversal,
      `entry '${name}' has an absolute path; re-create the archive with paths relative to its top folder (e.g. cat/1.jpg)`,
    );
  }
  const segments = normalised.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) {
    throw new GraftError(
      ErrorCode.pathTraversal,
      `entry '${name}' escapes the archive root; re-create the archive without parent-directory ('..') paths`,
    );
  }
  if (segments.some((s) => s.startsWith('.') || junkNames.has(s.toLowerCase()))) return null;
  return segments;
}

export function linkError(name: string): GraftError {
  return new GraftError(
    ErrorCode.pathTraversal,
    `entry '${name}' is a link; links are not allowed in datasets, re-create the archive with the real files ` +
      '(e.g. zip -r without -y, or tar with -h)',
  );
}

/**
 * Maps an error raised while reading an archive to what the user sees: our own GraftErrors pass through, errors of
 * the machine itself (disk full, permissions: they carry a syscall) stay internal, the rest means a broken archive.
 */
export function archiveError(kind: string, err: unknown): unknown {
  if (err instanceof GraftError || (err instanceof Error && 'syscall' in err)) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new GraftError(
    ErrorCode.notAnArchive,
    `the ${kind} archive is corrupt or truncated (${detail}); download or re-create it and upload it again`,
  );
}

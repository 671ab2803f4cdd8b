// Unpacks a zip with yauzl, one entry at a time (lazyEntries), validating every name before anything is written.
import { readFile, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { inflateRawSync } from 'node:zlib';
import yauzl from 'yauzl';
import { throwIfCancelled } from './cancellation.ts';
import { archiveError, entrySegments, linkError, tooManyEntries, type ExtractionTarget } from './extract-entry.ts';

/**
 * A zip up to this size is read whole and its entries cut from memory: each entry read from the file costs a
 * few thread-pool round trips, most of a small image's extraction (prepareDataset of 2,000 28-px PNGs, loaded
 * machine: 0.55–0.74 s against 0.63–2.1 s).
 */
const IN_MEMORY_ARCHIVE_BYTES = 64 * 1024 * 1024;

/**
 * An entry kept in memory that declares at most this many bytes is inflated in one synchronous call from the
 * archive's bytes: a stream per entry costs ~0.6 ms of CPU, most of a small image's extraction. Whatever that
 * call cannot vouch for (other sizes than declared, bad data, bytes after the deflate stream) is read again
 * through yauzl's stream, whose checks and errors stay the only ones a user sees.
 */
const INFLATE_AT_ONCE_BYTES = 1024 * 1024;

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

export async function extractZip(file: string, target: ExtractionTarget, signal?: AbortSignal): Promise<void> {
  const { zip, bytes } = await openZip(file);
  // yauzl may report an error between our reads; keep it instead of letting it crash the process.
  let zipError: Error | undefined;
  zip.on('error', (err: Error) => (zipError ??= err));
  try {
    // The declared count only lets us refuse early; entries are counted again as they are read.
    if (zip.entryCount > target.limits.maxEntries) throw tooManyEntries(target.limits.maxEntries);
    for (let entry = await nextEntry(zip); entry; entry = await nextEntry(zip)) {
      throwIfCancelled(signal);
      target.countEntry();
      // decodeStrings is off so that yauzl does not refuse unsafe names itself: we name them for the user.
      const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
      if (name.endsWith('/')) {
        entrySegments(name); // folders carry no data but must not be unsafe either
        continue;
      }
      if (((entry.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK) {
        if (entrySegments(name)) throw linkError(name);
        continue; // a link among junk (e.g. inside __MACOSX/) is never written, so it is no danger
      }
      const segments = target.claimFile(name);
      if (!segments) continue;
      if (entry.isEncrypted()) {
        target.skipped.push({ entry: name, reason: 'encrypted (password-protected); re-create the archive without a password' });
        continue;
      }
      if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
        target.skipped.push({
          entry: name,
          reason: `compressed with zip method ${entry.compressionMethod}, which is not supported; re-create the archive with standard Deflate`,
        });
        continue;
      }
      const whole = bytes && target.keepsInMemory(segments) ? await inflateAtOnce(zip, bytes, entry) : null;
      if (whole) target.keep(whole, segments);
      else await target.write(await openEntry(zip, entry), segments);
    }
    if (zipError) throw zipError;
  } catch (err) {
    throw archiveError('zip', err);
  } finally {
    zip.close();
  }
}

/** The zip, and its bytes when it is small enough to be read whole. */
async function openZip(file: string): Promise<{ zip: yauzl.ZipFile; bytes: Buffer | null }> {
  const options = { lazyEntries: true, decodeStrings: false, validateEntrySizes: true, autoClose: false };
  const done = (resolve: (z: yauzl.ZipFile) => void, reject: (e: unknown) => void) => (err: Error | null, zip: yauzl.ZipFile) =>
    err ? reject(archiveError('zip', err)) : resolve(zip);
  if ((await stat(file)).size <= IN_MEMORY_ARCHIVE_BYTES) {
    const bytes = await readFile(file);
    return { zip: await new Promise((resolve, reject) => yauzl.fromBuffer(bytes, options, done(resolve, reject))), bytes };
  }
  return { zip: await new Promise((resolve, reject) => yauzl.open(file, options, done(resolve, reject))), bytes: null };
}

/** A small deflated (or stored) entry's bytes, decompressed from the archive's bytes in one call; null: use the stream. */
async function inflateAtOnce(zip: yauzl.ZipFile, bytes: Buffer, entry: yauzl.Entry): Promise<Buffer | null> {
  if (entry.uncompressedSize > INFLATE_AT_ONCE_BYTES || entry.compressedSize > INFLATE_AT_ONCE_BYTES) return null;
  const start = await new Promise<number | null>((resolve) =>
    zip.readLocalFileHeader(entry, { minimal: true }, (err, header) => resolve(err ? null : header.fileDataStart)),
  );
  if (start === null) return null;
  const data = bytes.subarray(start, start + entry.compressedSize);
  if (entry.compressionMethod === 0) return data.length === entry.uncompressedSize ? data : null;
  try {
    const out = inflateRawSync(data, { info: true, maxOutputLength: entry.uncompressedSize + 1 }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    return out.buffer.length === entry.uncompressedSize && out.engine.bytesWritten === data.length ? out.buffer : null;
  } catch {
    return null;
  }
}

function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | null> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    const onEntry = (entry: yauzl.Entry) => (cleanup(), resolve(entry));
    const onEnd = () => (cleanup(), resolve(null));
    const onError = (err: Error) => (cleanup(), reject(err));
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err) return reject(err);
      // The first error reaches our pipeline; yauzl's size check can fire again on chunks it had already buffered,
      // after the pipeline let go of the stream, and an error nobody listens to would kill the process.
      stream.on('error', () => {});
      resolve(stream);
    });
  });
}

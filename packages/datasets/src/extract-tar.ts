// Unpacks a tar or tar.gz with the `tar` package's streaming Parser, writing files ourselves so that every entry
// name and type is checked (links and escaping paths are refused, not silently dropped as tar.x would do).
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { ErrorCode, GraftError } from '@graft/spec';
import { Parser, type ReadEntry } from 'tar';
import { looksLikeTar } from './archive-format.ts';
import { throwIfCancelled } from './cancellation.ts';
import { archiveError, ByteBudget, entrySegments, linkError, type ExtractionTarget } from './extract-entry.ts';

export async function extractTar(file: string, gzipped: boolean, target: ExtractionTarget, signal?: AbortSignal): Promise<void> {
  const kind = gzipped ? 'tar.gz' : 'tar';
  // strict: a checksum failure or truncated entry is an error, not a warning to log and skip past.
  const parser = new Parser({ strict: true });
  // Everything the parser reads counts, including entries we skip, so a bomb of ignored data is stopped too.
  const decompressed = new ByteBudget(target.limits.maxUncompressedBytes);
  const writes: Promise<void>[] = [];
  let failure: unknown;
  let rejectFailed!: (err: unknown) => void;
  const failed = new Promise<never>((_, reject) => (rejectFailed = reject));
  failed.catch(() => {}); // observed through `failure`; a rejection nobody awaits must not crash the process
  const fail = (err: unknown) => {
    if (failure !== undefined) return;
    failure = err;
    rejectFailed(err);
  };

  parser.on('error', fail);
  parser.on('entry', (entry: ReadEntry) => {
    entry.on('error', fail);
    if (failure !== undefined) return void entry.resume();
    try {
      const write = takeEntry(entry, target);
      if (write) writes.push(write.catch(fail));
    } catch (err) {
      entry.resume();
      fail(err);
    }
  });
  // tar itself says nothing when an archive stops cleanly between two entries; its end-of-archive marker (null
  // blocks) tells a complete archive from a cut-off download.
  let sawEndMarker = false;
  parser.on('nullBlock', () => (sawEndMarker = true));
  parser.on('eof', () => (sawEndMarker = true));
  const ended = once(parser, 'end');

  // Errors thrown here are kept: stream.pipeline reports them as a bare AbortError.
  let feedError: unknown;
  const feedParser = (source: AsyncIterable<Buffer>) =>
    feed(source).catch((err: unknown) => {
      feedError = err;
      throw err;
    });
  const feed = async (source: AsyncIterable<Buffer>) => {
    let head: Buffer | null = Buffer.alloc(0);
    for await (const chunk of source) {
      throwIfCancelled(signal);
      decompressed.add(chunk.length);
      if (head) {
        // The parser would itself unpack a nested gzip/zstd stream, outside our byte count: accept only real tar.
        head = Buffer.concat([head, chunk]);
        if (head.length < 512) continue;
        if (!looksLikeTar(head)) throw notTarInside(kind);
        await write(head);
        head = null;
      } else {
        await write(chunk);
      }
    }
    if (head) throw notTarInside(kind);
    parser.end();
    await Promise.race([ended, failed]);
    if (!sawEndMarker) throw new Error('the archive ends in the middle, without its end-of-archive marker');
  };
  const write = async (chunk: Buffer) => {
    if (failure !== undefined) throw failure;
    if (!parser.write(chunk)) await Promise.race([once(parser, 'drain'), failed]);
  };

  try {
    const input = createReadStream(file);
    await (gzipped ? pipeline(input, createGunzip(), feedParser) : pipeline(input, feedParser));
    await Promise.all(writes);
    if (failure !== undefined) throw failure;
  } catch (err) {
    target.abortWrites();
    await Promise.all(writes);
    throw archiveError(kind, feedError ?? failure ?? err);
  }
}

/** Starts writing a file entry (returns its completion) or handles any other entry type on the spot. */
function takeEntry(entry: ReadEntry, target: ExtractionTarget): Promise<void> | null {
  target.countEntry();
  switch (entry.type) {
    case 'File':
    case 'OldFile':
    case 'ContiguousFile': {
      const segments = target.claimFile(entry.path);
      if (segments) return target.write(entry, segments);
      break;
    }
    case 'Directory':
    case 'GNUDumpDir':
      entrySegments(entry.path); // folders carry no data but must not be unsafe either
      break;
    case 'SymbolicLink':
    case 'Link':
      if (entrySegments(entry.path)) throw linkError(entry.path);
      break; // a link among junk is never written, so it is no danger
    default:
      if (entrySegments(entry.path)) target.skipped.push({ entry: entry.path, reason: `not a regular file (${entry.type})` });
  }
  entry.resume();
  return null;
}

function notTarInside(kind: string): GraftError {
  return new GraftError(
    ErrorCode.notAnArchive,
    `the ${kind} file does not contain a tar archive; create it with \`tar -czf data.tar.gz <folder>\` or upload a zip`,
  );
}

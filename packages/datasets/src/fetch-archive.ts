// Gets the archive onto local disk: http(s) downloads and s3:// objects are copied with a size limit and
// timeouts; file:// URLs are used in place but only inside the configured datasets folder.
import { createWriteStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { ErrorCode, GraftError } from '@graft/spec';
import { safeFetch } from '@graft/safe-fetch';
import { cancelledError } from './cancellation.ts';
import { formatBytes } from './limits.ts';

/** Opens an object of the service's own store (the caller's S3 client). */
export type OpenS3 = (bucket: string, key: string) => Promise<NodeJS.ReadableStream>;

export interface DownloadTimeouts {
  /** fail when no byte arrives for this long, waiting for the response included (default 60 s) */
  idleMs: number;
  /** fail when the whole transfer takes longer (default 30 min) */
  totalMs: number;
}

export const defaultTimeouts: DownloadTimeouts = { idleMs: 60_000, totalMs: 30 * 60_000 };

export interface FetchOptions {
  maxArchiveBytes: number;
  /** file:// URLs are refused unless they resolve inside this folder */
  allowedFileRoot?: string;
  openS3?: OpenS3;
  signal?: AbortSignal;
  timeouts?: Partial<DownloadTimeouts>;
}

/**
 * Makes the archive at `url` available as a local file and returns its path: `downloadPath` for a download, the
 * original file for file:// URLs (which are not copied).
 */
export async function fetchArchive(url: string, downloadPath: string, opts: FetchOptions): Promise<string> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new GraftError(ErrorCode.urlNotAllowed, `'${url}' is not a valid URL; use http(s)://…, s3://bucket/key or file://…`);
  }
  switch (u.protocol) {
    case 'http:':
    case 'https:':
      await download(`downloading ${shownUrl(u)}`, opts, downloadPath, async (signal) => {
        // public addresses only, checked at connect and on every redirect (FETCH_ALLOW admits more)
        const res = await safeFetch(withoutCredentials(u), { signal, headers: basicAuth(u) });
        if (!res.ok) {
          await res.body?.cancel().catch(() => {});
          throw new GraftError(
            ErrorCode.downloadFailed,
            `downloading ${shownUrl(u)} failed: the server answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}; ` +
              'check that the URL is right and that it can be downloaded without logging in',
          );
        }
        const declared = Number(res.headers.get('content-length'));
        if (declared > opts.maxArchiveBytes) {
          await res.body?.cancel().catch(() => {});
          throw archiveTooLarge(opts.maxArchiveBytes, `it is ${formatBytes(declared)}`);
        }
        return res.body ? Readable.fromWeb(res.body as import('node:stream/web').ReadableStream) : Readable.from([]);
      });
      return downloadPath;
    case 's3:': {
      const bucket = u.hostname;
      const key = decodeURIComponent(u.pathname.replace(/^\//, ''));
      if (!bucket || !key) throw new GraftError(ErrorCode.urlNotAllowed, `'${url}' is not an s3://bucket/key URL`);
      const openS3 = opts.openS3;
      if (!openS3) {
        throw new GraftError(ErrorCode.urlNotAllowed, 's3:// URLs need the service object store, which is not configured here; use an http(s) URL or upload the archive');
      }
      await download(`reading s3://${bucket}/${key}`, opts, downloadPath, async (signal) => {
        const body = await Promise.race([openS3(bucket, key), aborted(signal)]);
        return body as Readable;
      });
      return downloadPath;
    }
    case 'file:':
      return localFileUrl(u, opts);
    default:
      throw new GraftError(
        ErrorCode.urlNotAllowed,
        `URLs starting with '${u.protocol}//' are not supported; use http(s)://…, s3://bucket/key or file://… inside the datasets folder`,
      );
  }
}

/** A local archive handed over by the caller (e.g. an upload already in storage): only its size is checked. */
export async function checkLocalArchive(file: string, maxArchiveBytes: number): Promise<string> {
  let info;
  try {
    info = await stat(file);
  } catch (err) {
    throw new GraftError(ErrorCode.downloadFailed, `the dataset archive cannot be read (${(err as Error).message}); upload it again`);
  }
  if (!info.isFile()) throw new GraftError(ErrorCode.downloadFailed, `the dataset archive '${file}' is not a file`);
  if (info.size > maxArchiveBytes) throw archiveTooLarge(maxArchiveBytes, `it is ${formatBytes(info.size)}`);
  return file;
}

async function localFileUrl(u: URL, opts: FetchOptions): Promise<string> {
  if (!opts.allowedFileRoot) {
    throw new GraftError(ErrorCode.urlNotAllowed, 'file:// URLs are disabled on this server (no datasets folder is configured); use an http(s) URL or upload the archive');
  }
  let file: string;
  try {
    file = fileURLToPath(u);
  } catch (err) {
    throw new GraftError(ErrorCode.urlNotAllowed, `'${u.href}' is not a local file URL (${(err as Error).message})`);
  }
  let root: string;
  try {
    root = await realpath(opts.allowedFileRoot);
  } catch {
    throw new GraftError(ErrorCode.urlNotAllowed, `file:// URLs are disabled on this server (its datasets folder ${opts.allowedFileRoot} does not exist); use an http(s) URL or upload the archive`);
  }
  const outside = () =>
    new GraftError(ErrorCode.urlNotAllowed, `file:// URLs must point inside the datasets folder ${root}; '${file}' is outside it`);
  // Checked before touching the file (nothing is revealed about paths outside) and again after resolving links.
  if (!isInside(root, path.resolve(file))) throw outside();
  let real: string;
  try {
    real = await realpath(file);
  } catch {
    throw new GraftError(ErrorCode.downloadFailed, `there is no file '${file}' in the datasets folder; check the path`);
  }
  if (!isInside(root, real)) throw outside();
  return checkLocalArchive(real, opts.maxArchiveBytes);
}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel !== '' && !rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel);
}

/**
 * Copies the stream `open` returns to `dest`, failing on too many bytes, on silence longer than idleMs, on a
 * transfer longer than totalMs and on cancellation; `what` starts every message ("downloading https://…").
 */
async function download(
  what: string,
  opts: FetchOptions,
  dest: string,
  open: (signal: AbortSignal) => Promise<Readable>,
): Promise<void> {
  const timeouts = { ...defaultTimeouts, ...opts.timeouts };
  const controller = new AbortController();
  let stopReason: 'idle' | 'total' | 'cancelled' | undefined;
  const stop = (why: typeof stopReason) => {
    stopReason ??= why;
    controller.abort();
  };
  const idle = setTimeout(() => stop('idle'), timeouts.idleMs);
  const total = setTimeout(() => stop('total'), timeouts.totalMs);
  const onCancel = () => stop('cancelled');
  opts.signal?.addEventListener('abort', onCancel, { once: true });
  if (opts.signal?.aborted) stop('cancelled');
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      idle.refresh();
      done(bytes > opts.maxArchiveBytes ? archiveTooLarge(opts.maxArchiveBytes, 'the download went past it') : null, chunk);
    },
  });
  try {
    const body = await open(controller.signal);
    idle.refresh();
    await pipeline(body, meter, createWriteStream(dest), { signal: controller.signal });
  } catch (err) {
    if (stopReason === 'cancelled') throw cancelledError();
    if (stopReason === 'idle') {
      throw new GraftError(ErrorCode.downloadFailed, `${what} timed out: no data arrived for ${timeouts.idleMs / 1000} s; check that the server is up, or upload the archive instead`);
    }
    if (stopReason === 'total') {
      throw new GraftError(ErrorCode.downloadFailed, `${what} timed out: it took longer than ${timeouts.totalMs / 1000} s; use a faster source or upload the archive instead`);
    }
    if (err instanceof GraftError) throw err;
    throw new GraftError(ErrorCode.downloadFailed, `${what} failed: ${describeFailure(err)}; check the URL and that the server is reachable`);
  } finally {
    clearTimeout(idle);
    clearTimeout(total);
    opts.signal?.removeEventListener('abort', onCancel);
  }
}

function archiveTooLarge(max: number, detail: string): GraftError {
  return new GraftError(ErrorCode.archiveTooLarge, `the archive is larger than ${formatBytes(max)}, the limit for a dataset (${detail}); use fewer or smaller images`);
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** The network error's code (ECONNREFUSED, ENOTFOUND…), on the error or, from fetch(), in its `cause`. */
function describeFailure(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = ((err as { code?: string }).code ? err : err.cause) as (Error & { code?: string }) | undefined;
  if (cause?.code) return `${cause.code} (${cause.message})`;
  const name = err.name && err.name !== 'Error' ? `${err.name}: ` : '';
  return `${name}${err.message}`;
}

/** user:password@ in a URL means HTTP Basic authentication, sent as a header (never in messages). */
function basicAuth(u: URL): Record<string, string> {
  if (!u.username && !u.password) return {};
  const user = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

function withoutCredentials(u: URL): URL {
  const bare = new URL(u.href);
  bare.username = '';
  bare.password = '';
  return bare;
}

/** The URL as shown in messages and logs: without credentials or query string (pre-signed URLs carry secrets). */
function shownUrl(u: URL): string {
  return `${u.protocol}//${u.host}${u.pathname}`;
}

// Datasets given by URL: real HTTP on 127.0.0.1 (success, 404, stalls, oversize), file:// confined to the
// datasets folder, s3:// through the caller's client against a real S3-protocol server.
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { prepareDataset } from '@graft/datasets';
import { makeImageFolderZip } from '../support/images.ts';
import { makeImageFolderTar } from '../support/archives.ts';
import { assertFails, scratch, type Scratch } from '../support/dataset-cases.ts';
import { serveBuffer, startServer, type TestServer } from '../support/http-server.ts';
import { startS3, type TestS3 } from '../support/s3.ts';

// The test server is on loopback, which the fetcher refuses unless the operator admits it.
process.env.FETCH_ALLOW = '127.0.0.1';

let s: Scratch;
let server: TestServer;
let zip: Buffer;
const stalled: { end(): void }[] = [];

before(async () => {
  s = await scratch();
  zip = await makeImageFolderZip({ perClass: 2, size: 32 });
  const tgz = await makeImageFolderTar({ perClass: 2, size: 32, gzip: true });
  server = await startServer({
    '/data.zip': serveBuffer(zip),
    '/data.tar.gz': serveBuffer(tgz, 'application/gzip'),
    '/forbidden': (_req, res) => res.writeHead(403).end('no'),
    '/private.zip': (req, res) => {
      if (req.headers.authorization === `Basic ${Buffer.from('user:s3cret').toString('base64')}`) serveBuffer(zip)(req, res);
      else res.writeHead(401).end();
    },
    '/page': serveBuffer(Buffer.from('<!doctype html><html><body>Click here to download</body></html>'), 'text/html'),
    // sends the headers, then nothing: a server that hangs half-way
    '/stall': (_req, res) => {
      res.writeHead(200, { 'content-length': 1_000_000 });
      res.write(zip.subarray(0, 100));
      stalled.push(res);
    },
    // never answers at all
    '/silent': (_req, res) => stalled.push(res),
    '/huge-declared': (_req, res) => {
      res.writeHead(200, { 'content-length': 10 * 2 ** 30 }).flushHeaders();
      stalled.push(res);
    },
    // chunked, no length announced, keeps going past the limit
    '/endless': (_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 1);
      const pump = () => {
        while (res.write(chunk)) if (res.destroyed) return;
        res.once('drain', pump);
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
    },
  });
});
after(async () => {
  for (const r of stalled) r.end();
  await server.close();
  await s.cleanup();
});

const labelled = { requireLabels: true };
const fromUrl = (url: string, extra: object = {}) => (destDir: string) => prepareDataset({ url }, { ...labelled, destDir, ...extra });

describe('http(s)', () => {
  test('a zip and a tar.gz download', async () => {
    for (const name of ['/data.zip', '/data.tar.gz']) {
      const ds = await prepareDataset({ url: server.url(name) }, { ...labelled, destDir: s.dest() });
      assert.deepEqual(ds.labels, ['green_circle', 'red_square']);
      assert.equal(ds.items.length, 4);
    }
  });

  test('404 and 403 name the HTTP status', async () => {
    await assertFails(fromUrl(server.url('/nope.zip')), s, 'download_failed', /the server answered HTTP 404 Not Found/, /check that the URL is right/);
    await assertFails(fromUrl(server.url('/forbidden')), s, 'download_failed', /HTTP 403 Forbidden/, /without logging in/);
  });

  test('a server that stops sending times out with the idle limit', async () => {
    const started = performance.now();
    await assertFails(fromUrl(server.url('/stall'), { timeouts: { idleMs: 300 } }), s, 'download_failed', /timed out: no data arrived for 0\.3 s/, /check that the server is up, or upload the archive/);
    await assertFails(fromUrl(server.url('/silent'), { timeouts: { idleMs: 300 } }), s, 'download_failed', /timed out/);
    assert.ok(performance.now() - started < 3000);
  });

  test('a download slower than the total limit times out', async () => {
    await assertFails(fromUrl(server.url('/stall'), { timeouts: { idleMs: 10_000, totalMs: 300 } }), s, 'download_failed', /took longer than 0\.3 s/);
  });

  test('too large: announced by Content-Length, or discovered while streaming', async () => {
    await assertFails(fromUrl(server.url('/huge-declared'), { timeouts: { idleMs: 2000 } }), s, 'archive_too_large', /larger than 2\.0 GiB.*it is 10\.0 GiB/, /use fewer or smaller images/);
    await assertFails(fromUrl(server.url('/endless'), { limits: { maxArchiveBytes: 1024 * 1024 } }), s, 'archive_too_large', /larger than 1\.0 MiB/);
  });

  test('a connection refused', async () => {
    const closed = await startServer({});
    const url = closed.url('/data.zip');
    await closed.close();
    await assertFails(fromUrl(url), s, 'download_failed', /ECONNREFUSED/, /check the URL and that the server is reachable/);
  });

  test('a web page instead of the file', async () => {
    await assertFails(fromUrl(server.url('/page')), s, 'not_an_archive', /HTML page/, /direct download link/);
  });

  test('user:password@ in the URL is HTTP Basic authentication, and stays out of messages with the query string', async () => {
    const ds = await prepareDataset({ url: server.url('/private.zip').replace('http://', 'http://user:s3cret@') }, { ...labelled, destDir: s.dest() });
    assert.equal(ds.items.length, 4);
    const err = await assertFails(fromUrl(server.url('/private.zip').replace('http://', 'http://user:wrong@') + '?X-Amz-Signature=abc'), s, 'download_failed', /HTTP 401/);
    assert.doesNotMatch(err.message, /wrong|Signature/);
  });

  test('cancelling stops a stalled download at once', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await assertFails(fromUrl(server.url('/stall'), { signal: controller.signal }), s, 'cancelled', /cancelled/);
  });
});

describe('url_not_allowed', () => {
  test('without FETCH_ALLOW a loopback server is refused before anything reaches it, as the job error says', async () => {
    let hits = 0;
    const counted = await startServer({ '/data.zip': (req, res) => (hits++, serveBuffer(zip)(req, res)) });
    const allow = process.env.FETCH_ALLOW;
    delete process.env.FETCH_ALLOW;
    try {
      const port = new URL(counted.url('/')).port;
      for (const host of ['127.0.0.1', '2130706433', '0x7f000001', '127.1', '[::ffff:127.0.0.1]', 'localhost']) {
        await assertFails(fromUrl(`http://${host}:${port}/data.zip`), s, 'url_not_allowed', /is not allowed: .* is not a public address \((loopback|IPv4-mapped IPv6)\)/, /FETCH_ALLOW/);
      }
      assert.equal(hits, 0);
    } finally {
      process.env.FETCH_ALLOW = allow;
      await counted.close();
    }
  });

  test('other schemes and malformed URLs', async () => {
    for (const url of ['ftp://example.com/data.zip', 'gopher://x/y', 'javascript:alert(1)', 'data:application/zip;base64,UEsDBA==']) {
      await assertFails(fromUrl(url), s, 'url_not_allowed', /are not supported; use http\(s\):\/\/…, s3:\/\/bucket\/key or file:\/\//);
    }
    await assertFails(fromUrl('not a url'), s, 'url_not_allowed', /is not a valid URL/);
  });
});

describe('file://', () => {
  let root: string;
  before(async () => {
    root = path.join(s.dir, 'datasets-dir');
    await mkdir(path.join(root, 'team'), { recursive: true });
    await writeFile(path.join(root, 'team', 'data.zip'), zip);
    await writeFile(path.join(s.dir, 'outside.zip'), zip);
    await symlink(path.join(s.dir, 'outside.zip'), path.join(root, 'sneaky.zip'));
  });

  test('inside DATASETS_DIR works and the file is left in place', async () => {
    const ds = await prepareDataset({ url: pathToFileURL(path.join(root, 'team', 'data.zip')).href }, { ...labelled, destDir: s.dest(), allowedFileRoot: root });
    assert.equal(ds.items.length, 4);
  });

  test('outside DATASETS_DIR, through .., or through a symlink: url_not_allowed', async () => {
    const opts = { allowedFileRoot: root };
    await assertFails(fromUrl(pathToFileURL(path.join(s.dir, 'outside.zip')).href, opts), s, 'url_not_allowed', /must point inside the datasets folder/);
    await assertFails(fromUrl('file:///etc/passwd', opts), s, 'url_not_allowed', /'\/etc\/passwd' is outside it/);
    await assertFails(fromUrl(`file://${root}/team/../../outside.zip`, opts), s, 'url_not_allowed', /outside it/);
    await assertFails(fromUrl(pathToFileURL(path.join(root, 'sneaky.zip')).href, opts), s, 'url_not_allowed', /outside it/);
  });

  test('without a configured DATASETS_DIR file:// is refused; a missing file inside is download_failed', async () => {
    await assertFails(fromUrl(pathToFileURL(path.join(root, 'team', 'data.zip')).href), s, 'url_not_allowed', /file:\/\/ URLs are disabled on this server/);
    await assertFails(fromUrl(pathToFileURL(path.join(root, 'team', 'data.zip')).href, { allowedFileRoot: path.join(s.dir, 'no-such-dir') }), s, 'url_not_allowed', /datasets folder .* does not exist/);
    await assertFails(fromUrl(pathToFileURL(path.join(root, 'nope.zip')).href, { allowedFileRoot: root }), s, 'download_failed', /there is no file .* in the datasets folder/);
  });
});

describe('s3://', () => {
  let s3: TestS3;
  let client: S3Client;
  let openS3: (bucket: string, key: string) => Promise<NodeJS.ReadableStream>;
  before(async () => {
    s3 = await startS3('datasets');
    client = new S3Client(s3.s3);
    await client.send(new PutObjectCommand({ Bucket: 'datasets', Key: 'team/data set.zip', Body: zip }));
    openS3 = async (bucket, key) => (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body as Readable;
  });
  after(async () => {
    client.destroy();
    await s3.close();
  });

  test('an object of the configured store, read through the caller\'s client', async () => {
    const ds = await prepareDataset({ url: 's3://datasets/team/data%20set.zip' }, { ...labelled, destDir: s.dest(), openS3 });
    assert.equal(ds.items.length, 4);
  });

  test('a missing key is download_failed naming the object; no store configured is url_not_allowed', async () => {
    await assertFails(fromUrl('s3://datasets/team/missing.zip', { openS3 }), s, 'download_failed', /reading s3:\/\/datasets\/team\/missing\.zip failed: NoSuchKey/);
    await assertFails(fromUrl('s3://datasets/team/data.zip'), s, 'url_not_allowed', /s3:\/\/ URLs need the service object store/);
  });
});

// Archives built to hurt the service: escaping paths, links, decompression bombs, pixel bombs, lies and garbage.
// Each one must fail the job with a code and a message that tells the user what to fix, leave nothing on disk
// and leave the process running.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeImageFolderFiles, makeImageFolderZip, zipEntries } from '../support/images.ts';
import { makeImageFolderTar, pngClaiming, tarEntries, zipWithRawNames, zipWithSymlink } from '../support/archives.ts';
import { assertArchiveFails, prepareArchive, scratch, type Scratch } from '../support/dataset-cases.ts';

let s: Scratch;
let images: Map<string, Buffer>;
const openFiles = () => readdirSync('/proc/self/fd').length;
before(async () => {
  s = await scratch();
  images = await makeImageFolderFiles({ perClass: 2, size: 32 });
});
after(() => s.cleanup());

const labelled = { requireLabels: true };
const withImages = (extra: [string, Buffer][]) => new Map([...images, ...extra]);
const asTar = (files: Map<string, Buffer>) => [...files].map(([name, data]) => ({ name, data }));
const png = () => images.values().next().value!;

describe('path_traversal', () => {
  test("zip entry '../evil.png'", async () => {
    const zip = await zipWithRawNames(withImages([['../evil.png', png()]]));
    await assertArchiveFails(s, zip, labelled, 'path_traversal', /entry '\.\.\/evil\.png' escapes the archive root/, /re-create the archive without parent-directory/);
    assert.equal(existsSync(path.join(s.dir, 'evil.png')), false);
  });

  test('zip entry hidden deeper: a/../../evil.png, and with backslashes', async () => {
    await assertArchiveFails(s, await zipWithRawNames(withImages([['red_square/../../evil.png', png()]])), labelled, 'path_traversal', /escapes the archive root/);
    await assertArchiveFails(s, await zipWithRawNames(withImages([['..\\..\\evil.png', png()]])), labelled, 'path_traversal', /escapes the archive root/);
  });

  test('zip entry with an absolute path', async () => {
    const zip = await zipWithRawNames(withImages([['/tmp/evil.png', png()]]));
    await assertArchiveFails(s, zip, labelled, 'path_traversal', /entry '\/tmp\/evil\.png' has an absolute path/, /paths relative to its top folder/);
  });

  test('zip symbolic link', async () => {
    const zip = await zipWithSymlink(images, { name: 'red_square/passwd.png', target: '/etc/passwd' });
    await assertArchiveFails(s, zip, labelled, 'path_traversal', /entry 'red_square\/passwd\.png' is a link/, /re-create the archive with the real files/);
  });

  test("tar entries '../evil.png' and '/etc/evil.png'", async () => {
    const up = tarEntries([...asTar(images), { name: '../evil.png', data: png() }]);
    await assertArchiveFails(s, up, labelled, 'path_traversal', /entry '\.\.\/evil\.png' escapes the archive root/);
    const abs = tarEntries([...asTar(images), { name: '/etc/evil.png', data: png() }], { gzip: true });
    await assertArchiveFails(s, abs, labelled, 'path_traversal', /has an absolute path/);
  });

  test('a link among ignored junk is not written and does not fail the dataset', async () => {
    const ds = await prepareArchive(s, tarEntries([...asTar(images), { name: '__MACOSX/x.png', type: 'SymbolicLink', linkpath: '/etc/passwd' }]), labelled);
    assert.equal(ds.items.length, 4);
  });

  test('tar symbolic link and hard link, even when placed before the files', async () => {
    const sym = tarEntries([{ name: 'red_square/x.png', type: 'SymbolicLink', linkpath: '/etc/passwd' }, ...asTar(images)]);
    await assertArchiveFails(s, sym, labelled, 'path_traversal', /entry 'red_square\/x\.png' is a link/, /tar with -h/);
    const hard = tarEntries([...asTar(images), { name: 'red_square/y.png', type: 'Link', linkpath: '../../etc/passwd' }], { gzip: true });
    await assertArchiveFails(s, hard, labelled, 'path_traversal', /is a link/);
  });
});

describe('archive_too_large (bombs, not trusting headers)', () => {
  const limits = { maxUncompressedBytes: 4 * 1024 * 1024 };
  const zeros = Buffer.alloc(32 * 1024 * 1024);

  test('a zip bomb: 32 MiB of zeros in a ~32 KiB entry, limit 4 MiB', async () => {
    const zip = await zipEntries(withImages([['red_square/bomb.png', zeros]]));
    assert.ok(zip.length < 200 * 1024, `bomb is ${zip.length} bytes`);
    await assertArchiveFails(s, zip, { ...labelled, limits }, 'archive_too_large', /unpacks to more than 4\.0 MiB/, /use fewer or smaller images/);
  });

  test('a zip whose central directory lies about the size is stopped on the bytes really produced', async () => {
    const zip = await zipEntries(withImages([['red_square/bomb.png', zeros]]));
    // Patch the central directory record of the bomb: claim 100 bytes uncompressed.
    const name = Buffer.from('red_square/bomb.png');
    const cd = zip.indexOf(Buffer.concat([Buffer.from([0x50, 0x4b, 0x01, 0x02])]), zip.lastIndexOf(name) - 46);
    assert.ok(cd > 0 && zip.subarray(cd + 46, cd + 46 + name.length).equals(name));
    zip.writeUInt32LE(100, cd + 24);
    // yauzl notices more bytes than declared and stops: a corrupt archive, refused before the limit is reached.
    await assertArchiveFails(s, zip, { ...labelled, limits }, 'not_an_archive', /zip archive is corrupt or truncated/, /re-create it/);
  });

  test('a tar.gz bomb: 32 MiB of zeros in a skipped hidden entry still counts', async () => {
    const tgz = tarEntries([...asTar(images), { name: '.cache/zeros', data: zeros }], { gzip: true });
    assert.ok(tgz.length < 200 * 1024);
    await assertArchiveFails(s, tgz, { ...labelled, limits }, 'archive_too_large', /unpacks to more than 4\.0 MiB/);
  });

  test('a tar.gz bomb in an image entry is stopped while being written, and its file is closed', async () => {
    const tgz = tarEntries([...asTar(images), { name: 'red_square/zeros.png', data: zeros }], { gzip: true });
    const before = openFiles();
    await assertArchiveFails(s, tgz, { ...labelled, limits }, 'archive_too_large', /unpacks to more than 4\.0 MiB/);
    await new Promise((resolve) => setTimeout(resolve, 50)); // handles close asynchronously
    assert.equal(openFiles(), before);
  });

  test('too many entries', async () => {
    const many = new Map(images);
    for (let i = 0; i < 30; i++) many.set(`red_square/empty-${i}.txt`, Buffer.alloc(0));
    const opts = { ...labelled, limits: { maxEntries: 20 } };
    await assertArchiveFails(s, await zipEntries(many), opts, 'archive_too_large', /more than 20 entries/, /split it or remove files/);
    await assertArchiveFails(s, tarEntries(asTar(many)), opts, 'archive_too_large', /more than 20 entries/);
  });

  test('an archive file over maxArchiveBytes', async () => {
    const zip = await makeImageFolderZip({ perClass: 2, size: 32 });
    await assertArchiveFails(s, zip, { ...labelled, limits: { maxArchiveBytes: 1000 } }, 'archive_too_large', /larger than 1000 bytes/, /use fewer or smaller images/);
  });
});

describe('image_too_large (pixel bombs)', () => {
  test('a 20000x20000 PNG of ~100 bytes is refused from its header, fast, without allocating its pixels', async () => {
    const bomb = pngClaiming(20000, 20000);
    assert.ok(bomb.length < 200);
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    await assertArchiveFails(
      s,
      await zipEntries(withImages([['red_square/bomb.png', bomb]])),
      labelled,
      'image_too_large',
      /image 'red_square\/bomb\.png' is 20000x20000 pixels \(400\.0 megapixels\), above the limit of 50\.0 megapixels/,
      /downscale it/,
    );
    const ms = performance.now() - started;
    const grewMiB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    assert.ok(ms < 2000, `took ${ms} ms`);
    assert.ok(grewMiB < 100, `RSS grew by ${grewMiB} MiB (the pixels alone would be 381 MiB)`);
  });

  test('the per-image limit is configurable', async () => {
    const tgz = await makeImageFolderTar({ perClass: 2, size: 48, gzip: true });
    await assertArchiveFails(s, tgz, { ...labelled, limits: { maxImagePixels: 40 * 40 } }, 'image_too_large', /is 48x48 pixels/);
    const ok = await prepareArchive(s, tgz, { ...labelled, limits: { maxImagePixels: 48 * 48 } });
    assert.equal(ok.items.length, 4);
  });
});

describe('not_an_archive (garbage, corruption, truncation)', () => {
  test('plain text, an empty file, a single image, an HTML page, a RAR', async () => {
    await assertArchiveFails(s, Buffer.from('hello, this is not a zip'), labelled, 'not_an_archive', /not a zip, tar or tar\.gz archive/, /upload a zip, tar or tar\.gz archive of class folders/);
    await assertArchiveFails(s, Buffer.alloc(0), labelled, 'not_an_archive', /the file is empty/);
    await assertArchiveFails(s, png(), labelled, 'not_an_archive', /a single PNG image, not an archive/);
    await assertArchiveFails(s, Buffer.from('<!DOCTYPE html><html><body>Download</body></html>'), labelled, 'not_an_archive', /HTML page/, /direct download link/);
    await assertArchiveFails(s, Buffer.from('Rar!\x1a\x07\x00garbage'), labelled, 'not_an_archive', /RAR archive, which is not supported/);
  });

  test('a truncated zip (download cut off)', async () => {
    const zip = await makeImageFolderZip({ perClass: 2, size: 32 });
    await assertArchiveFails(s, zip.subarray(0, zip.length >> 1), labelled, 'not_an_archive', /zip archive is corrupt or truncated/, /download or re-create it/);
  });

  test('a zip with corrupted compressed data', async () => {
    const zip = await zipEntries(new Map([...images].map(([n, d]) => [n, Buffer.concat([d, Buffer.alloc(4096, 7)])])));
    for (let i = 200; i < 260; i++) zip[i] = 0xff;
    await assertArchiveFails(s, zip, labelled, 'not_an_archive', /zip archive is corrupt or truncated/);
  });

  test('a truncated tar and a truncated tar.gz', async () => {
    const tarball = await makeImageFolderTar({ perClass: 2, size: 32 });
    await assertArchiveFails(s, tarball.subarray(0, 1500), labelled, 'not_an_archive', /tar archive is corrupt or truncated/);
    const tgz = await makeImageFolderTar({ perClass: 2, size: 32, gzip: true });
    await assertArchiveFails(s, tgz.subarray(0, tgz.length - 100), labelled, 'not_an_archive', /tar\.gz archive is corrupt or truncated/);
  });

  test('a gzip file that does not contain a tar', async () => {
    const { gzipSync } = await import('node:zlib');
    await assertArchiveFails(s, gzipSync(Buffer.alloc(4096, 'a')), labelled, 'not_an_archive', /does not contain a tar archive/, /tar -czf/);
  });
});

test('after all of the above the process is still alive and a good archive still works', async () => {
  const ds = await prepareArchive(s, await makeImageFolderZip({ perClass: 2, size: 32 }), labelled);
  assert.equal(ds.items.length, 4);
});

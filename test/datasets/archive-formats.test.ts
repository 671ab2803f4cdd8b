// A user's dataset in each supported archive and image format becomes the same labelled set of local images.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { archiveFormatOf, prepareDataset } from '@graft/datasets';
import { GraftError } from '@graft/spec';
import { makeImageFolderFiles, makeImageFolderZip, mulberry32, renderPattern, defaultPatterns, zipEntries } from '../support/images.ts';
import { makeImageFolderTar, tarEntries } from '../support/archives.ts';
import { prepareArchive, scratch, type Scratch } from '../support/dataset-cases.ts';

let s: Scratch;
before(async () => (s = await scratch()));
after(() => s.cleanup());

describe('archive formats', () => {
  test('a zip made by zipping a folder (one top folder) gives every image with its class folder as label', async () => {
    const zip = await makeImageFolderZip({ topFolder: 'mydata', perClass: 4, size: 32 });
    const ds = await prepareArchive(s, zip, { requireLabels: true });
    assert.deepEqual(ds.labels, ['green_circle', 'red_square']);
    assert.equal(ds.items.length, 8);
    assert.deepEqual(ds.skipped, []);
    for (const item of ds.items) {
      assert.ok(path.isAbsolute(item.file) && item.file.startsWith(ds.root + path.sep));
      assert.equal(path.basename(path.dirname(item.file)), item.label);
    }
    // the extracted bytes are the uploaded image, untouched
    const original = (await makeImageFolderFiles({ topFolder: 'mydata', perClass: 4, size: 32 })).get('mydata/red_square/000.png')!;
    assert.deepEqual(await readFile(path.join(ds.root, 'mydata/red_square/000.png')), original);
  });

  test('a zip without top folder', async () => {
    const ds = await prepareArchive(s, await makeImageFolderZip({ perClass: 3, size: 32 }), { requireLabels: true });
    assert.deepEqual(ds.labels, ['green_circle', 'red_square']);
    assert.equal(ds.items.length, 6);
  });

  test('nested wrapper folders (mydata/train/<class>/<image>) are not taken for classes', async () => {
    const ds = await prepareArchive(s, await makeImageFolderZip({ topFolder: 'mydata/train', perClass: 2, size: 32 }), { requireLabels: true });
    assert.deepEqual(ds.labels, ['green_circle', 'red_square']);
  });

  test('a tar made by the tar package', async () => {
    const tarball = await makeImageFolderTar({ perClass: 3, size: 32, patterns: defaultPatterns.slice(0, 3) });
    const ds = await prepareArchive(s, tarball, { requireLabels: true });
    assert.deepEqual(ds.labels, ['blue_stripes', 'green_circle', 'red_square']);
    assert.equal(ds.items.length, 9);
  });

  test('a tar.gz with a top folder', async () => {
    const tgz = await makeImageFolderTar({ perClass: 3, size: 32, gzip: true, topFolder: 'photos' });
    assert.deepEqual([...tgz.subarray(0, 2)], [0x1f, 0x8b]);
    const ds = await prepareArchive(s, tgz, { requireLabels: true });
    assert.deepEqual(ds.labels, ['green_circle', 'red_square']);
    assert.equal(ds.items.length, 6);
    assert.ok(ds.items.every((i) => i.file.includes(`${path.sep}photos${path.sep}`)));
  });
});

test('archiveFormatOf tells the format from the first 512 bytes (for checking uploads early)', async () => {
  const zip = await makeImageFolderZip({ perClass: 1, size: 32 });
  const tarball = await makeImageFolderTar({ perClass: 1, size: 32 });
  const tgz = await makeImageFolderTar({ perClass: 1, size: 32, gzip: true });
  assert.equal(archiveFormatOf(zip.subarray(0, 512)), 'zip');
  assert.equal(archiveFormatOf(tarball.subarray(0, 512)), 'tar');
  assert.equal(archiveFormatOf(tgz.subarray(0, 512)), 'tar.gz');
  assert.throws(() => archiveFormatOf(Buffer.from('%PDF-1.7 ...')), (err) => err instanceof GraftError && err.code === 'not_an_archive' && /a PDF document/.test(err.message));
});

describe('image formats', () => {
  test('PNG, JPEG, WebP, GIF and TIFF images, colour, grey, palette, alpha, 16-bit and CMYK, are all accepted', async () => {
    const rand = mulberry32(7);
    const raw = (i: number) => renderPattern(defaultPatterns[i % 2]!, rand, { size: 32 });
    const img = (i: number) => sharp(raw(i), { raw: { width: 32, height: 32, channels: 3 } });
    const files = new Map<string, Buffer>([
      ['red_square/a.png', await img(0).png().toBuffer()],
      ['red_square/b.jpg', await img(0).jpeg().toBuffer()],
      ['red_square/c.webp', await img(0).webp().toBuffer()],
      ['green_circle/d.gif', await img(1).gif().toBuffer()],
      ['green_circle/e.tiff', await img(1).tiff().toBuffer()],
      ['green_circle/grey.png', await img(1).toColourspace('b-w').png().toBuffer()],
      ['green_circle/grey.jpg', await img(1).toColourspace('b-w').jpeg().toBuffer()],
      ['green_circle/palette.png', await img(1).png({ palette: true }).toBuffer()],
      ['green_circle/alpha.png', await img(1).ensureAlpha(0.5).png().toBuffer()],
      ['green_circle/sixteen-bit.png', await img(1).toColourspace('rgb16').png().toBuffer()],
      ['red_square/cmyk.jpg', await img(0).toColourspace('cmyk').jpeg().toBuffer()],
    ]);
    assert.equal((await sharp(files.get('green_circle/grey.png')!).metadata()).channels, 1);
    const ds = await prepareArchive(s, await zipEntries(files), { requireLabels: true });
    assert.deepEqual(ds.skipped, []);
    assert.deepEqual(
      ds.items.map((i) => `${i.label}:${path.basename(i.file)}`),
      [
        'green_circle:alpha.png', 'green_circle:d.gif', 'green_circle:e.tiff', 'green_circle:grey.jpg', 'green_circle:grey.png',
        'green_circle:palette.png', 'green_circle:sixteen-bit.png', 'red_square:a.png', 'red_square:b.jpg', 'red_square:c.webp', 'red_square:cmyk.jpg',
      ],
    );
  });

  test('an image is recognised by its content, not its extension', async () => {
    const files = await makeImageFolderFiles({ perClass: 2, size: 32 });
    files.set('red_square/photo.jpeg.bin', files.get('red_square/000.png')!);
    const ds = await prepareArchive(s, await zipEntries(files), { requireLabels: true });
    assert.ok(ds.items.some((i) => i.file.endsWith('photo.jpeg.bin')));
  });
});

describe('what is left out', () => {
  test('macOS and hidden junk is ignored silently; other non-images are skipped and reported', async () => {
    const files = await makeImageFolderFiles({ topFolder: 'mydata', perClass: 2, size: 32 });
    files.set('__MACOSX/mydata/red_square/._000.png', Buffer.from('resource fork'));
    files.set('mydata/.DS_Store', Buffer.from('finder'));
    files.set('mydata/red_square/.hidden.png', files.get('mydata/red_square/000.png')!);
    files.set('mydata/red_square/notes.txt', Buffer.from('taken on a sunny day'));
    files.set('mydata/README.md', Buffer.from('# my data'));
    const whole = files.get('mydata/green_circle/000.png')!;
    files.set('mydata/green_circle/truncated.png', whole.subarray(0, whole.length >> 1));
    files.set('mydata/green_circle/headless.png', whole.subarray(0, 30));
    const ds = await prepareArchive(s, await zipEntries(files), { requireLabels: true });
    assert.equal(ds.items.length, 4);
    const skipped = new Map(ds.skipped.map((e) => [e.entry, e.reason]));
    assert.deepEqual([...skipped.keys()].sort(), ['mydata/README.md', 'mydata/green_circle/headless.png', 'mydata/green_circle/truncated.png', 'mydata/red_square/notes.txt']);
    assert.match(skipped.get('mydata/red_square/notes.txt')!, /not a PNG, JPEG, WebP, GIF or TIFF image/);
    assert.match(skipped.get('mydata/README.md')!, /not inside a class folder/);
    assert.match(skipped.get('mydata/green_circle/truncated.png')!, /PNG data cannot be decoded, the file is damaged or truncated/);
    assert.match(skipped.get('mydata/green_circle/headless.png')!, /PNG header cannot be read, the file is damaged or truncated/);
  });
});

describe('entries that cannot be written as they are', () => {
  test('duplicates, file/folder clashes, over-long names, devices: skipped with a reason, the rest is used', async () => {
    const files = await makeImageFolderFiles({ perClass: 2, size: 32 });
    const [a, b] = [...files.values()];
    const long = `red_square/${'x'.repeat(300)}.png`;
    const entries = [
      ...[...files].map(([name, data]) => ({ name, data })),
      { name: 'red_square/000.png', data: b! }, // a second copy under the same name
      { name: 'red_square/000.png/inner.png', data: a! }, // a folder where a file already is
      { name: long, data: a! },
      { name: 'green_circle/pipe', type: 'FIFO' as const },
    ];
    const ds = await prepareArchive(s, tarEntries(entries, { gzip: true }), { requireLabels: true });
    assert.equal(ds.items.length, 4);
    assert.deepEqual(await readFile(path.join(ds.root, 'red_square/000.png')), files.get('red_square/000.png'));
    assert.deepEqual(
      ds.skipped.map((e) => e.reason),
      [
        'duplicate entry; the first copy was used',
        'a file of the same name as one of its folders is already in the archive',
        'its name is too long for a file system; shorten the file or folder name',
        'not a regular file (FIFO)',
      ],
    );
  });

  test('password-protected zip entries are skipped with what to do', async () => {
    const zip = await zipEntries(await makeImageFolderFiles({ perClass: 2, size: 32 }));
    // Set the "encrypted" flag of the first entry in the central directory (bit 0 of the general purpose flags).
    const cd = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    zip.writeUInt16LE(zip.readUInt16LE(cd + 8) | 1, cd + 8);
    const ds = await prepareArchive(s, zip, { requireLabels: true });
    assert.equal(ds.items.length, 3);
    assert.match(ds.skipped[0]!.reason, /encrypted \(password-protected\); re-create the archive without a password/);
  });
});

describe('labels.csv', () => {
  test('path,label with a header, paths relative to the archive root, labels independent of folders', async () => {
    const images = await makeImageFolderFiles({ perClass: 3, size: 32 });
    const files = new Map<string, Buffer>();
    const lines = ['path,label'];
    let i = 0;
    for (const [name, data] of images) {
      files.set(`images/${i}.png`, data);
      lines.push(`images/${i}.png,${name.startsWith('red') ? 'red' : 'green'}`);
      i++;
    }
    files.set('labels.csv', Buffer.from(lines.join('\r\n') + '\r\n'));
    files.set('images/unlisted.png', images.values().next().value!);
    const ds = await prepareArchive(s, await zipEntries(files), { requireLabels: true });
    assert.deepEqual(ds.labels, ['green', 'red']);
    assert.equal(ds.items.length, 6);
    assert.equal(ds.items.filter((x) => x.label === 'red').length, 3);
    assert.deepEqual(ds.skipped, [{ entry: 'images/unlisted.png', reason: 'not listed in labels.csv' }]);
  });

  test('without a header, inside a top folder, paths relative to that folder, quoted fields', async () => {
    const images = await makeImageFolderFiles({ perClass: 2, size: 32 });
    const files = new Map<string, Buffer>();
    const lines: string[] = [];
    for (const [name, data] of images) {
      files.set(`export/${name}`, data);
      lines.push(`"${name}","${name.split('/')[0]}, the class"`);
    }
    files.set('export/labels.csv', Buffer.from('\uFEFF' + lines.join('\n')));
    const ds = await prepareArchive(s, await zipEntries(files), { requireLabels: true });
    assert.deepEqual(ds.labels, ['green_circle, the class', 'red_square, the class']);
    assert.equal(ds.items.length, 4);
  });
});

describe('unlabelled datasets', () => {
  test('loose images (optionally in one folder) are accepted with null labels when labels are not required', async () => {
    const images = await makeImageFolderFiles({ perClass: 2, size: 32 });
    const files = new Map([...images].map(([name, data]) => [`target_domain/${name.replace('/', '_')}`, data]));
    const ds = await prepareArchive(s, await zipEntries(files), { requireLabels: false });
    assert.deepEqual(ds.labels, []);
    assert.equal(ds.items.length, 4);
    assert.ok(ds.items.every((i) => i.label === null));
  });

  test('class folders still give labels (for evaluation) when labels are not required', async () => {
    const ds = await prepareArchive(s, await makeImageFolderZip({ perClass: 2, size: 32, topFolder: 't' }), { requireLabels: false });
    assert.deepEqual(ds.labels, ['green_circle', 'red_square']);
  });
});

test('a cancelled job stops preparing its dataset and leaves nothing behind', async () => {
  const tgz = await makeImageFolderTar({ perClass: 20, size: 32, gzip: true });
  const controller = new AbortController();
  const archivePath = await s.file('cancel.tar.gz', tgz);
  const destDir = s.dest();
  const running = prepareDataset({ archivePath }, { destDir, requireLabels: true, signal: controller.signal });
  setImmediate(() => controller.abort());
  await assert.rejects(running, (err) => err instanceof GraftError && err.code === 'cancelled');
  assert.equal(existsSync(destDir), false);
});

// A dataset prepared for training (decodeInEngine): the images stay in memory, checked by content and header
// (format allow-list, pixel limit before decoding, native size), and the disk holds only what must be there.
// The refusals are the same as for a dataset on disk.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { makeImageFolderFiles, zipEntries } from '../support/images.ts';
import { pngClaiming, tarEntries, zipWithRawNames } from '../support/archives.ts';
import { assertArchiveFails, prepareArchive, scratch, type Scratch } from '../support/dataset-cases.ts';

let s: Scratch;
let images: Map<string, Buffer>;
before(async () => {
  s = await scratch();
  images = await makeImageFolderFiles({ perClass: 3, size: 32 });
});
after(() => s.cleanup());

const inMemory = { requireLabels: true, decodeInEngine: { maxInMemoryBytes: 64 * 1024 * 1024 } };
const filesUnder = (dir: string): string[] => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);

describe('images kept in memory for the engine', () => {
  test('every image arrives as its archive bytes with its native size; nothing is written to disk', async () => {
    const ds = await prepareArchive(s, await zipEntries(images), inMemory);
    assert.equal(ds.items.length, 6);
    for (const item of ds.items) {
      const rel = item.file.slice(ds.root.length + 1);
      assert.ok(item.data && Buffer.from(item.data).equals(images.get(rel)!), `${rel} kept byte for byte`);
      assert.deepEqual([item.width, item.height], [32, 32]);
    }
    assert.deepEqual(filesUnder(ds.root), []);
  });

  test('labels.csv goes to disk, the images it lists stay in memory', async () => {
    const files = new Map([...images].map(([name, data]) => [`images/${name.replace('/', '_')}`, data]));
    const csv = [...images.keys()].map((name) => `${name.replace('/', '_')},${name.split('/')[0]}`).join('\n');
    files.set('images/labels.csv', Buffer.from(csv));
    const ds = await prepareArchive(s, await zipEntries(files), inMemory);
    assert.equal(ds.items.length, 6);
    assert.ok(ds.items.every((i) => i.data));
    assert.deepEqual(filesUnder(ds.root), ['labels.csv']);
  });

  test('beyond the memory budget the images go to disk as usual, still with their size', async () => {
    const ds = await prepareArchive(s, await zipEntries(images), { ...inMemory, decodeInEngine: { maxInMemoryBytes: 1 } });
    assert.equal(ds.items.filter((i) => i.data).length, 1, 'the budget is overrun by at most one entry');
    assert.equal(filesUnder(ds.root).length, 5);
    assert.ok(ds.items.every((i) => i.width === 32 && i.height === 32));
  });

  test('what is no image, or has no readable header, is skipped here; damaged data is left to the one decode', async () => {
    const files = new Map(images);
    const whole = images.get('red_square/000.png')!;
    files.set('red_square/notes.txt', Buffer.from('taken on a sunny day'));
    files.set('red_square/headless.png', whole.subarray(0, 30));
    files.set('red_square/truncated.png', whole.subarray(0, whole.length >> 1));
    const ds = await prepareArchive(s, await zipEntries(files), inMemory);
    const skipped = new Map(ds.skipped.map((e) => [e.entry, e.reason]));
    assert.deepEqual([...skipped.keys()].sort(), ['red_square/headless.png', 'red_square/notes.txt']);
    assert.match(skipped.get('red_square/notes.txt')!, /not a PNG, JPEG, WebP, GIF or TIFF image/);
    assert.match(skipped.get('red_square/headless.png')!, /PNG header cannot be read, the file is damaged or truncated/);
    assert.ok(ds.items.some((i) => i.file.endsWith('truncated.png')), 'its header is sound: the engine decides');
  });

  test('the refusals are the same: pixel bomb, zip bomb, escaping path', async () => {
    const withImages = (extra: [string, Buffer][]) => new Map([...images, ...extra]);
    await assertArchiveFails(
      s,
      await zipEntries(withImages([['red_square/bomb.png', pngClaiming(20000, 20000)]])),
      inMemory,
      'image_too_large',
      /image 'red_square\/bomb\.png' is 20000x20000 pixels \(400\.0 megapixels\), above the limit of 50\.0 megapixels/,
    );
    const zeros = Buffer.alloc(32 * 1024 * 1024);
    const limits = { maxUncompressedBytes: 4 * 1024 * 1024 };
    await assertArchiveFails(s, await zipEntries(withImages([['red_square/bomb.png', zeros]])), { ...inMemory, limits }, 'archive_too_large', /unpacks to more than 4\.0 MiB/);
    const tgz = tarEntries([...[...images].map(([name, data]) => ({ name, data })), { name: 'red_square/zeros.png', data: zeros }], { gzip: true });
    await assertArchiveFails(s, tgz, { ...inMemory, limits }, 'archive_too_large', /unpacks to more than 4\.0 MiB/);
    await assertArchiveFails(s, await zipWithRawNames(withImages([['../evil.png', images.get('red_square/000.png')!]])), inMemory, 'path_traversal', /escapes the archive root/);
  });
});

// Datasets that unpack fine but cannot train: wrong or missing labels, one class, nothing usable.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeImageFolderFiles, makeImageFolderZip, zipEntries } from '../support/images.ts';
import { tarEntries } from '../support/archives.ts';
import { assertArchiveFails, prepareArchive, scratch, type Scratch } from '../support/dataset-cases.ts';

let s: Scratch;
const images = await makeImageFolderFiles({ perClass: 2, size: 32 });
const [first, second] = [...images.keys()];
before(async () => (s = await scratch()));
after(() => s.cleanup());

const labelled = { requireLabels: true };
const withCsv = (csv: string) => zipEntries(new Map([...images, ['labels.csv', Buffer.from(csv)]]));

describe('too_few_classes', () => {
  test('one class folder only', async () => {
    const zip = await makeImageFolderZip({ perClass: 3, size: 32, patterns: [{ name: 'cat', color: [200, 0, 0], shape: 'circle' }] });
    await assertArchiveFails(s, zip, labelled, 'too_few_classes', /found only 1 class \('cat'\)/, /needs at least 2/, /add a folder of images for each class/);
  });

  test('one class inside a top folder, too', async () => {
    const zip = await makeImageFolderZip({ perClass: 3, size: 32, topFolder: 'mydata', patterns: [{ name: 'cat', color: [200, 0, 0], shape: 'circle' }] });
    await assertArchiveFails(s, zip, labelled, 'too_few_classes', /only 1 class \('cat'\)/);
  });

  test('one class under two wrapper folders', async () => {
    const zip = await makeImageFolderZip({ perClass: 2, size: 32, topFolder: 'export/v2', patterns: [{ name: 'cat', color: [200, 0, 0], shape: 'circle' }] });
    await assertArchiveFails(s, zip, labelled, 'too_few_classes', /only 1 class \('cat'\)/);
  });

  test('a second class whose files are all unusable does not count', async () => {
    const files = new Map([...images].filter(([n]) => n.startsWith('red_square/')));
    files.set('dog/readme.txt', Buffer.from('dog pictures coming soon'));
    await assertArchiveFails(s, await zipEntries(files), labelled, 'too_few_classes', /only 1 class \('red_square'\) with usable images/);
  });

  test('loose images without class folders when labels are required', async () => {
    const files = new Map([...images].map(([n, d]) => [n.replace('/', '-'), d]));
    await assertArchiveFails(s, await zipEntries(files), labelled, 'too_few_classes', /not sorted into classes/, /put each class in its own folder .* or add a labels\.csv/);
  });

  test('minClasses is honoured', async () => {
    await assertArchiveFails(s, await makeImageFolderZip({ perClass: 2, size: 32 }), { ...labelled, minClasses: 3 }, 'too_few_classes', /only 2 classes .* at least 3/);
  });

  test('labels.csv with a single label', async () => {
    await assertArchiveFails(s, await withCsv([...images.keys()].map((k) => `${k},same`).join('\n')), labelled, 'too_few_classes', /only 1 class \('same'\)/, /labels\.csv at least that many different labels/);
  });
});

describe('no_images', () => {
  test('an archive of documents says what was skipped and what is supported', async () => {
    const zip = await zipEntries(new Map([['cats/cat.txt', Buffer.from('meow')], ['dogs/dog.pdf', Buffer.from('%PDF-1.4 woof')]]));
    await assertArchiveFails(s, zip, labelled, 'no_images', /contains no usable images \(supported: PNG, JPEG, WebP, GIF or TIFF\)/, /2 file\(s\) were skipped/, /'cats\/cat\.txt': not a PNG/);
  });

  test('an empty archive, and one with only macOS junk', async () => {
    await assertArchiveFails(s, await zipEntries(new Map()), labelled, 'no_images', /it is empty/);
    const junk = new Map([['__MACOSX/._x.png', Buffer.from('x')], ['.DS_Store', Buffer.from('x')]]);
    await assertArchiveFails(s, await zipEntries(junk), { requireLabels: false }, 'no_images', /it is empty/);
  });
});

describe('bad_labels', () => {
  test('a listed file missing from the archive', async () => {
    await assertArchiveFails(s, await withCsv(`path,label\n${first},a\nphotos/nope.png,b\n`), labelled, 'bad_labels', /labels\.csv lists 1 file\(s\) that are not in the archive \('photos\/nope\.png'\)/, /relative to the archive root or to the folder of labels\.csv/);
  });

  test('a line with the wrong number of fields', async () => {
    await assertArchiveFails(s, await withCsv(`${first},a\n${second},b,extra\n`), labelled, 'bad_labels', /labels\.csv line 2 has 3 field\(s\); each line must be 'path,label'/);
    await assertArchiveFails(s, await withCsv(`${first};a\n`), labelled, 'bad_labels', /line 1 has 1 field\(s\)/);
  });

  test('an empty label, an unclosed quote, no rows, contradicting lines', async () => {
    await assertArchiveFails(s, await withCsv(`path,label\n${first},\n`), labelled, 'bad_labels', /line 2 has an empty label; fill it in or remove the line/);
    await assertArchiveFails(s, await withCsv(`"${first},a\n`), labelled, 'bad_labels', /unclosed quote/);
    await assertArchiveFails(s, await withCsv('path,label\n\n'), labelled, 'bad_labels', /has no rows; write one 'path,label' line per image/);
    await assertArchiveFails(s, await withCsv(`${first},a\n${first},b\n`), labelled, 'bad_labels', /labels '.*' as 'b' but an earlier line says 'a'; keep one label per image/);
  });

  test('a labels.csv too large to be a list of labels', async () => {
    // an uncompressed tar: building it costs a copy, not 65 MiB of deflate
    const huge = Buffer.from(`${first},a\n`.repeat((65 * 2 ** 20) / (first!.length + 3)));
    const tarball = tarEntries([...[...images].map(([name, data]) => ({ name, data })), { name: 'labels.csv', data: huge }]);
    await assertArchiveFails(s, tarball, labelled, 'bad_labels', /labels\.csv is larger than 64 MiB/);
  });

  test('a labels.csv path that points outside the archive is path_traversal', async () => {
    await assertArchiveFails(s, await withCsv(`${first},a\n../../etc/passwd,b\n`), labelled, 'path_traversal', /labels\.csv line 2: path '\.\.\/\.\.\/etc\/passwd' points outside the archive/);
  });
});

test('a good labels.csv next to the failing cases still works', async () => {
  const ds = await prepareArchive(s, await withCsv(`${first},a\n${second},b\n`), labelled);
  assert.deepEqual(ds.labels, ['a', 'b']);
  assert.equal(ds.skipped.length, images.size - 2);
});

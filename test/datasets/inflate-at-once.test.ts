// Small zip entries kept in memory are inflated in one call (extract-zip.ts); an entry that call cannot vouch for
// goes through yauzl's stream, so the refusal is word for word the one a dataset on disk gets.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { GraftError } from '@graft/spec';
import { makeImageFolderFiles, zipEntries } from '../support/images.ts';
import { prepareArchive, scratch, type Scratch } from '../support/dataset-cases.ts';

let s: Scratch;
before(async () => (s = await scratch()));
after(() => s.cleanup());
const images = await makeImageFolderFiles({ perClass: 3, size: 32 });

const onDisk = { requireLabels: true };
const inMemory = { requireLabels: true, decodeInEngine: { maxInMemoryBytes: 64 * 1024 * 1024 } };

async function refusal(zip: Buffer, opts: typeof onDisk): Promise<string> {
  const err = await prepareArchive(s, zip, opts).then(() => null, (e: unknown) => e);
  assert.ok(err instanceof GraftError, `refused, not ${String(err)}`);
  return `${err.code}: ${err.message}`;
}

/** The zip with one entry's central-directory field at `offset` (24: uncompressed size) set to `value`. */
function patched(zip: Buffer, name: string, offset: number, value: number): Buffer {
  const out = Buffer.from(zip);
  const raw = Buffer.from(name);
  const cd = out.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), out.lastIndexOf(raw) - 46);
  assert.ok(cd > 0 && out.subarray(cd + 46, cd + 46 + raw.length).equals(raw));
  out.writeUInt32LE(value, cd + offset);
  return out;
}

test('in memory, small entries arrive byte for byte', async () => {
  const ds = await prepareArchive(s, await zipEntries(images), inMemory);
  for (const item of ds.items) assert.ok(Buffer.from(item.data!).equals(images.get(item.file.slice(ds.root.length + 1))!));
});

test('sizes that lie and damaged data are refused in memory exactly as on disk', async () => {
  const zip = await zipEntries(images);
  const name = 'red_square/001.png';
  const size = images.get(name)!.length;
  const cases = {
    'more bytes than declared': patched(zip, name, 24, size - 10),
    'fewer bytes than declared': patched(zip, name, 24, size + 10),
    // as hostile-archives.test.ts damages one: the first entry's deflate data overwritten
    'damaged deflate data': await zipEntries(new Map([...images].map(([n, d]) => [n, Buffer.concat([d, Buffer.alloc(4096, 7)])]))).then((z) => z.fill(0xff, 200, 260)),
  };
  for (const [what, bad] of Object.entries(cases)) {
    const expected = await refusal(bad, onDisk);
    assert.match(expected, /^not_an_archive: the zip archive is corrupt or truncated/, what);
    assert.equal(await refusal(bad, inMemory), expected, what);
  }
});

// GET /datasets/:id/summary over real HTTP: what a job would find in an upload, read as the worker reads it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeImageFolderFiles, zipEntries } from '../support/images.ts';
import { startTestApi } from '../support/api.ts';

const api = await startTestApi();

async function uploaded(files: Map<string, Buffer>): Promise<string> {
  const res = await api.http.post('/datasets').attach('file', await zipEntries(files), 'data.zip');
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

test('classes with their image counts and the skipped entries with reasons', async () => {
  const files = await makeImageFolderFiles({ perClass: 3, size: 32 });
  files.set('red_square/notes.txt', Buffer.from('not an image'));
  files.set('green_circle/broken.png', Buffer.from('\x89PNG but not really'));
  const id = await uploaded(files);
  const res = await api.http.get(`/datasets/${id}/summary`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.id, id);
  assert.equal(res.body.images, 6);
  assert.equal(res.body.unlabelled, 0);
  assert.deepEqual(res.body.classes, [{ label: 'green_circle', images: 3 }, { label: 'red_square', images: 3 }]);
  assert.deepEqual(res.body.skipped.map((s: { entry: string }) => s.entry).sort(), ['green_circle/broken.png', 'red_square/notes.txt']);
  for (const s of res.body.skipped) assert.ok(s.reason.length > 5, `a reason for ${s.entry}`);
  // asked again, the same answer (kept: an upload never changes)
  assert.deepEqual((await api.http.get(`/datasets/${id}/summary`)).body, res.body);
});

test('images without classes are counted as unlabelled (a domain_adaptation target)', async () => {
  const files = new Map([...(await makeImageFolderFiles({ perClass: 2, size: 32 }))].map(([name, bytes]) => [name.replace('/', '-'), bytes]));
  const res = await api.http.get(`/datasets/${await uploaded(files)}/summary`).expect(200);
  assert.equal(res.body.images, 4);
  assert.equal(res.body.unlabelled, 4);
  assert.deepEqual(res.body.classes, []);
});

test('an archive no job could use is 400 with the job error code; an unknown id is 404', async () => {
  const res = await api.http.get(`/datasets/${await uploaded(new Map([['readme.txt', Buffer.from('hello')]]))}/summary`);
  assert.equal(res.status, 400);
  assert.equal(res.body.error.code, 'no_images');
  assert.match(res.body.error.message, /readme\.txt/);
  assert.equal((await api.http.get('/datasets/00000000-0000-4000-8000-000000000000/summary')).status, 404);
  assert.equal((await api.http.get('/datasets/nope/summary')).status, 404);
});

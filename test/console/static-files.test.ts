// The console's files over real HTTP: the page at /, its modules and the npm libraries it imports, with the
// right types and a content security policy that keeps the page on its own origin; nothing outside the folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startTestApi } from '../support/api.ts';

const api = await startTestApi();

test('/ is the console page, with a same-origin content security policy', async () => {
  const res = await api.http.get('/').expect(200);
  assert.match(res.headers['content-type'], /^text\/html/);
  assert.match(res.text, /<script type="module" src="\/console\/app\.js">/);
  assert.match(res.headers['content-security-policy'], /default-src 'self'/);
});

test('its modules and the vendored libraries are served as JavaScript and CSS', async () => {
  for (const [file, type] of [
    ['/console/app.js', /javascript/],
    ['/console/style.css', /text\/css/],
    ['/console/vendor/preact-htm.mjs', /javascript/],
    ['/console/vendor/uplot.mjs', /javascript/],
    ['/console/vendor/uplot.css', /text\/css/],
  ] as const) {
    const res = await api.http.get(file);
    assert.equal(res.status, 200, file);
    assert.match(res.headers['content-type'], type, file);
  }
  const defaults = (await api.http.get('/console/defaults.json').expect(200)).body;
  assert.equal(defaults.mobilenet_v2.fine_tune.epochs, 10);
  assert.equal(defaults.mobilenet_v2.feature_extraction.trainableBlocks, 0);
});

test('nothing outside the console folder is served; unknown files are 404', async () => {
  for (const name of ['package.json', 'constructor', '__proto__']) assert.equal((await api.http.get(`/console/vendor/${name}`)).status, 404, name);
  assert.equal((await api.http.get('/console/nope.js')).status, 404);
  // sent raw, so no client normalizes the dots away
  for (const target of ['/console/../package.json', '/console/%2e%2e/package.json', '/console/..%2f..%2fpackage.json']) {
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(api.url);
      request({ host: url.hostname, port: url.port, path: target }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      }).on('error', reject).end();
    });
    assert.ok(status === 403 || status === 404, `${target}: ${status}`);
  }
});

test('the console is not part of the API document', async () => {
  const doc = (await api.http.get('/openapi.json').expect(200)).body;
  assert.ok(!Object.keys(doc.paths).some((p) => p === '/' || p.startsWith('/console')));
  assert.ok(doc.paths['/datasets/{id}/summary']);
});

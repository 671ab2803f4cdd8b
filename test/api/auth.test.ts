// Keys, scopes and tenants over real HTTP: every route without a key (401), with a key lacking its
// scope (403) and with another tenant's key (404, never 403: it must not reveal that the thing exists).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import auth, { publicRoutes } from '../../apps/api/src/auth/auth-plugin.ts';
import errors from '../../apps/api/src/errors.ts';
import { startTestApi } from '../support/api.ts';
import { seedServedJob } from '../support/served-job.ts';
import { makeImageFolderZip } from '../support/images.ts';
import { sweeps } from '@graft/db';

const api = await startTestApi();
const job = await seedServedJob(api);
const zip = await makeImageFolderZip({ perClass: 2, size: 16 });
const dataset = (await api.http.post('/datasets').attach('file', zip, 'data.zip').expect(201)).body as { id: string };
const other = await api.createTenant(['train', 'predict']);
const trainOnly = await api.createTenant(['train']);
const predictOnly = await api.createTenant(['predict']);
// a stored sweep row only: nothing here needs its trials
const sweep = await sweeps.createSweepRow(api.db.prisma, api.tenantId, {
  method: 'fine_tune',
  dataset: { url: 'https://example.com/d.zip' },
  search: { algorithm: 'grid', maxTrials: 1, parallelTrials: 1, objective: 'valAccuracy', space: { learningRate: [0.01] } },
});

type Scope = 'train' | 'predict' | 'admin' | 'any';
// Every route that needs a key, with the scope it needs; the test below checks none is missing.
const routes: [method: 'get' | 'post' | 'delete', path: string, scope: Scope][] = [
  ['post', '/jobs', 'train'],
  ['post', '/jobs/preview', 'train'],
  ['get', '/jobs', 'train'],
  ['get', `/jobs/${job.id}`, 'train'],
  ['get', `/jobs/${job.id}/metrics`, 'train'],
  ['get', `/jobs/${job.id}/events`, 'train'],
  ['get', `/jobs/${job.id}/report`, 'train'],
  ['delete', `/jobs/${job.id}`, 'train'],
  ['get', `/jobs/${job.id}/model`, 'predict'],
  ['post', '/predict', 'predict'],
  ['post', '/datasets', 'train'],
  ['get', `/datasets/${dataset.id}`, 'train'],
  ['get', `/datasets/${dataset.id}/summary`, 'train'],
  ['delete', `/datasets/${dataset.id}`, 'train'],
  ['get', '/backbones', 'any'],
  ['get', '/me', 'any'],
  ['post', '/tenants', 'admin'],
  ['post', `/tenants/${other.tenantId}/keys`, 'admin'],
  ['delete', `/keys/${other.keyId}`, 'admin'],
  ['post', '/sweeps', 'train'],
  ['get', '/sweeps', 'train'],
  ['get', `/sweeps/${sweep.id}`, 'train'],
  ['get', `/sweeps/${sweep.id}/report`, 'train'],
  ['delete', `/sweeps/${sweep.id}`, 'train'],
];
const template = (path: string) => path.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '{id}');

test('the table above covers every route the OpenAPI document says needs a key, and only those', async () => {
  const doc = (await api.anonymous.get('/openapi.json').expect(200)).body;
  assert.equal(doc.components.securitySchemes.bearerAuth.scheme, 'bearer');
  const secured: string[] = [];
  const open: string[] = [];
  for (const [path, ops] of Object.entries<Record<string, { security?: unknown[] }>>(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) (op.security?.length ? secured : open).push(`${method} ${path.replace(/\{\w+\}/g, '{id}')}`);
  }
  assert.deepEqual(secured.sort(), routes.map(([m, p]) => `${m} ${template(p)}`).sort());
  assert.deepEqual(open.sort(), ['get /healthz', 'get /readyz']);
  assert.match(doc.paths['/jobs'].post.description, /`train` scope/);
  assert.equal(doc.paths['/jobs/{id}'].get.description.match(/Needs an API key/g).length, 1);
  assert.ok(doc.paths['/jobs'].post.responses['401'] && doc.paths['/jobs'].post.responses['403']);
});

test('public routes answer without a key: health, readiness, the OpenAPI document and Swagger UI', async () => {
  await api.anonymous.get('/healthz').expect(200);
  await api.anonymous.get('/readyz').expect(200);
  await api.anonymous.get('/openapi.json').expect(200);
  assert.equal((await api.anonymous.get('/docs/').redirects(2)).status, 200);
  // an unknown route is 404 with or without a key
  assert.equal((await api.anonymous.get('/nope')).status, 404);
});

test('every route without a key, or with a malformed or unknown one, is 401 unauthorized with WWW-Authenticate', async () => {
  for (const [method, path] of routes) {
    for (const auth of [undefined, 'Bearer', 'Basic abc', 'Bearer graft_AAAAAAAAAAAA_' + 'x'.repeat(43), `Bearer ${api.key}x`]) {
      const req = api.anonymous[method](path);
      if (auth) req.set('authorization', auth);
      const res = await req;
      assert.equal(res.status, 401, `${method} ${path} with ${auth ?? 'no header'}`);
      assert.equal(res.body.error.code, 'unauthorized');
      assert.equal(res.headers['www-authenticate'], 'Bearer');
    }
  }
});

test('every route with a key lacking its scope is 403 forbidden naming the scope', async () => {
  const keyWithout: Record<Exclude<Scope, 'any'>, string> = { train: predictOnly.key, predict: trainOnly.key, admin: api.key };
  for (const [method, path, scope] of routes) {
    if (scope === 'any') continue;
    const res = await api.as(keyWithout[scope])[method](path);
    assert.equal(res.status, 403, `${method} ${path} needs ${scope}`);
    assert.equal(res.body.error.code, 'forbidden');
    assert.match(res.body.error.message, new RegExp(`'${scope}' scope`));
  }
});

test("another tenant's key gets 404 for this tenant's job, dataset and sweep, on every route that takes their id", async () => {
  const b = api.as(other.key);
  for (const [method, path] of routes) {
    if (![job.id, dataset.id, sweep.id].some((id) => path.includes(id))) continue;
    const res = await b[method](path);
    assert.equal(res.status, 404, `${method} ${path}`);
    assert.equal(res.body.error.code, 'not_found');
  }
  const predict = await b.post('/predict').send({ jobId: job.id, images: ['aGVsbG8='] });
  assert.equal(predict.status, 404);
  const multipart = await b.post('/predict').field('jobId', job.id).attach('image', Buffer.from('x'), 'x.png');
  assert.equal(multipart.status, 404);
  // as dataset/source/validation of a job: the same answer as an id that does not exist
  for (const field of ['dataset', 'validation'] as const) {
    const res = await b.post('/jobs').send({ method: 'fine_tune', dataset: { url: 'https://example.com/d.zip' }, [field]: { id: dataset.id } });
    assert.equal(res.status, 400, field);
    assert.equal(res.body.error.details.field, `${field}.id`);
  }
  const source = await b.post('/jobs').send({ method: 'multi_task', dataset: { url: 'https://example.com/d.zip' }, source: { id: dataset.id } });
  assert.equal(source.body.error.details.field, 'source.id');
  // its list holds none of them
  assert.deepEqual((await b.get('/jobs').expect(200)).body.items, []);
  // and the owner still sees everything
  await api.http.get(`/jobs/${job.id}`).expect(200);
  await api.http.get(`/datasets/${dataset.id}`).expect(200);
  assert.equal((await api.http.get('/jobs').expect(200)).body.total, 1);
});

test('an admin creates a tenant and a key; the key works at once, only for its scopes; revoked, it fails at once', async () => {
  const admin = api.as(api.adminKey);
  const tenant = (await admin.post('/tenants').send({ name: 'acme', quotas: { maxConcurrentJobs: 2 } }).expect(201)).body;
  assert.equal(tenant.name, 'acme');
  assert.equal(tenant.quotas.maxConcurrentJobs, 2);
  assert.equal(tenant.quotas.predictPerMinute, api.config.tenantDefaults.predictPerMinute, 'a quota left out takes the default');
  const created = (await admin.post(`/tenants/${tenant.id}/keys`).send({ scopes: ['predict'], name: 'kiosk' }).expect(201)).body;
  assert.match(created.key, /^graft_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(created.scopes, ['predict']);
  const rows = await api.db.prisma.apiKey.findMany({ where: { tenantId: tenant.id } });
  assert.equal(rows.length, 1);
  // the secret is everything after graft_<lookup>_ (base64url: it may hold '_' itself, and a fragment cut at
  // one could be a few characters that occur in the stored hash by chance)
  const secret = created.key.slice('graft_'.length + 12 + 1);
  assert.equal(secret.length, 43);
  assert.ok(!JSON.stringify(rows).includes(secret), 'only the hash is stored');

  const me = (await api.as(created.key).get('/me').expect(200)).body;
  assert.equal(me.tenant.id, tenant.id);
  assert.deepEqual(me.scopes, ['predict']);
  assert.equal(me.isAdmin, false);
  assert.deepEqual(me.usage, { concurrentJobs: 0, storageBytes: 0, predictionsThisMinute: 0 });
  assert.equal((await api.as(created.key).get('/jobs')).status, 403);

  assert.equal((await admin.post('/tenants/00000000-0000-4000-8000-000000000000/keys').send({ scopes: ['train'] })).status, 404);
  assert.equal((await admin.post(`/tenants/${tenant.id}/keys`).send({ scopes: ['root'] })).status, 400);
  await admin.delete(`/keys/${created.id}`).expect(204);
  assert.equal((await api.as(created.key).get('/me')).status, 401);
  assert.equal((await admin.delete(`/keys/${created.id}`)).status, 404);
});

test('GET /me counts the tenant’s stored bytes and active jobs', async () => {
  const me = (await api.http.get('/me').expect(200)).body;
  assert.equal(me.tenant.id, api.tenantId);
  assert.deepEqual(me.scopes, ['train', 'predict']);
  assert.equal(me.usage.storageBytes, zip.length);
});

test('file:// URLs are for admin keys only; s3:// only inside the configured store', async () => {
  const spec = (url: string) => ({ method: 'fine_tune', dataset: { url } });
  const file = await api.http.post('/jobs').send(spec(`file://${api.config.datasetsDir}/d.zip`));
  assert.equal(file.status, 400);
  assert.equal(file.body.error.code, 'url_not_allowed');
  assert.match(file.body.error.message, /admin key/);
  const backbone = await api.http.post('/jobs').send({ ...spec('https://example.com/d.zip'), backbone: { url: 'file:///etc/model.json' } });
  assert.equal(backbone.body.error.details.field, 'backbone.url');
  await api.as(api.adminKey).post('/jobs').send(spec(`file://${api.config.datasetsDir}/d.zip`)).expect(202);
  const s3 = await api.http.post('/jobs').send(spec('s3://someone-elses-bucket/d.zip'));
  assert.equal(s3.body.error.code, 'url_not_allowed');
  assert.match(s3.body.error.message, /STORAGE_URL/);
});

test('an http(s) dataset, source, validation or backbone URL on an internal IP literal or localhost is 400 url_not_allowed at submission', async () => {
  for (const host of ['127.0.0.1', '2130706433', '0x7f000001', '127.1', '[::ffff:127.0.0.1]', 'localhost', '169.254.169.254', '10.0.0.1', '[fc00::1]']) {
    const res = await api.http.post('/jobs').send({ method: 'fine_tune', dataset: { url: `http://${host}:8080/d.zip` } });
    assert.equal(res.status, 400, host);
    assert.equal(res.body.error.code, 'url_not_allowed');
    assert.equal(res.body.error.details.field, 'dataset.url');
    assert.match(res.body.error.message, /not a public address.*FETCH_ALLOW/);
  }
  const backbone = await api.http.post('/jobs').send({ method: 'fine_tune', dataset: { url: 'https://example.com/d.zip' }, backbone: { url: 'http://[::1]/model.json' } });
  assert.equal(backbone.body.error.details.field, 'backbone.url');
});

test('a plugin opts all its routes out of keys with publicRoutes(app); its siblings still need one', async () => {
  const app = Fastify();
  app.decorate('prisma', api.db.prisma);
  await app.register(errors);
  await app.register(auth, {});
  await app.register(async (console) => {
    publicRoutes(console);
    console.get('/', async () => 'the console');
    console.get('/assets/app.js', async () => 'js');
  });
  app.get('/private', { config: { scope: 'any' } }, async () => 'secret');
  app.get('/undeclared', async () => 'admins only');
  try {
    assert.equal((await app.inject('/')).body, 'the console');
    assert.equal((await app.inject('/assets/app.js')).statusCode, 200);
    assert.equal((await app.inject('/private')).statusCode, 401);
    const headers = { authorization: `Bearer ${api.key}` };
    assert.equal((await app.inject({ url: '/private', headers })).body, 'secret');
    assert.equal((await app.inject({ url: '/undeclared', headers })).statusCode, 403, 'a route that declares no scope needs admin');
    assert.equal((await app.inject({ url: '/undeclared', headers: { authorization: `Bearer ${api.adminKey}` } })).statusCode, 200);
  } finally {
    await app.close();
  }
});

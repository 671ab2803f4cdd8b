import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '@graft/config';

test('defaults let the service start on a fresh machine', () => {
  const c = loadConfig({});
  assert.equal(c.port, 3000);
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.databaseUrl, 'postgresql://postgres@127.0.0.1:5432/graft');
  assert.equal(c.redisUrl, 'redis://127.0.0.1:6379');
  assert.equal(c.storageUrl, 'file://./var/storage');
  assert.equal(c.queuePrefix, 'graft');
  assert.equal(c.workerConcurrency, 1);
  assert.equal(c.maxUploadBytes, 2 * 1024 ** 3);
  assert.equal(c.s3.credentials, undefined);
  assert.equal(c.s3.forcePathStyle, false);
});

test('S3 settings: an endpoint (MinIO) turns on path-style addressing unless told otherwise', () => {
  const c = loadConfig({ STORAGE_URL: 's3://models', S3_ENDPOINT: 'http://minio:9000', AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' });
  assert.deepEqual(c.s3, { endpoint: 'http://minio:9000', region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'k', secretAccessKey: 's' } });
  assert.equal(loadConfig({ S3_ENDPOINT: 'http://minio:9000', S3_FORCE_PATH_STYLE: 'false' }).s3.forcePathStyle, false);
});

test('invalid values fail fast naming the variable', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: 'http' }, /^PORT="http" is not a whole number/],
    [{ PORT: '70000' }, /^PORT=70000 is out of range/],
    [{ DATABASE_URL: 'mysql://x/y' }, /^DATABASE_URL=.* must start with postgresql:\/\/ or postgres:\/\//],
    [{ REDIS_URL: 'not a url' }, /^REDIS_URL=.* is not a URL/],
    [{ STORAGE_URL: 'ftp://x' }, /^STORAGE_URL=.* must start with file:\/\/ or s3:\/\//],
    [{ WORKER_CONCURRENCY: '0' }, /^WORKER_CONCURRENCY=0 is out of range/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL="loud" must be one of/],
    [{ S3_FORCE_PATH_STYLE: 'maybe' }, /^S3_FORCE_PATH_STYLE="maybe" must be true or false/],
    [{ AWS_ACCESS_KEY_ID: 'k' }, /must be set together/],
    [{ QUEUE_PREFIX: 'a b' }, /^QUEUE_PREFIX=/],
  ];
  for (const [env, message] of cases) assert.throws(() => loadConfig(env), (err: Error) => err instanceof ConfigError && message.test(err.message), JSON.stringify(env));
});

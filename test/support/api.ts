// A real API for HTTP tests: buildApp on a throwaway Postgres database, a unique Redis queue prefix
// and a temporary storage folder, listening on an ephemeral port. Torn down after the test file.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import pino from 'pino';
import supertest from 'supertest';
import { loadConfig, type Config } from '@graft/config';
import { LEGACY_TENANT_ID, tenants, type PrismaClient, type Quotas, type Scope } from '@graft/db';
import { createJobQueue } from '@graft/queue';
import { openStorage } from '@graft/storage';
import { buildApp } from '../../apps/api/src/app.ts';
import { generateKey } from '../../apps/api/src/auth/keys.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

export interface TenantKey {
  tenantId: string;
  /** a key of that tenant (graft_…) */
  key: string;
  /** the key's id, for DELETE /keys/{id} */
  keyId: string;
  /** `{ authorization: 'Bearer <key>' }` for fetch() and other clients */
  headers: Record<string, string>;
}

export interface TestApi extends TenantKey {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** supertest over real HTTP against `url`, sending the test tenant's train+predict key by default */
  http: ReturnType<typeof supertest.agent>;
  /** supertest over real HTTP without any key */
  anonymous: ReturnType<typeof supertest>;
  /** an admin (operator) key */
  adminKey: string;
  /** a new tenant (no quotas unless given) with a key of these scopes */
  createTenant(scopes?: Scope[], quotas?: Partial<Quotas>): Promise<TenantKey>;
  /** supertest with this key by default */
  as(key: string): ReturnType<typeof supertest.agent>;
  app: Awaited<ReturnType<typeof buildApp>>;
  db: TestDatabase;
  config: Config;
  queue: ReturnType<typeof createJobQueue>;
  storageDir: string;
  close(): Promise<void>;
}

/** `env` overrides the configuration (e.g. MAX_UPLOAD_BYTES) on top of the test database, queue and storage. */
export async function startTestApi(env: Record<string, string> = {}): Promise<TestApi> {
  const db = await createTestDatabase('api');
  const storageDir = await mkdtemp(path.join(tmpdir(), 'graft-api-storage-'));
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: db.url,
    QUEUE_PREFIX: `graft-test-${randomBytes(4).toString('hex')}`,
    STORAGE_URL: `file://${storageDir}`,
    DATASETS_DIR: storageDir,
    ...env,
  });
  const queue = createJobQueue(config);
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const app = await buildApp({ config, prisma: db.prisma, queue, storage: openStorage(config), logger });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('the API is not listening on a TCP port');
  const url = `http://127.0.0.1:${address.port}`;

  const as = (key: string) => supertest.agent(url).set('authorization', `Bearer ${key}`);
  const adminKey = (await addKey(db.prisma, LEGACY_TENANT_ID, ['admin'])).key;
  const createTenant = async (scopes: Scope[] = ['train', 'predict'], quotas: Partial<Quotas> = {}) => {
    const tenant = await tenants.createTenant(db.prisma, `test-${randomBytes(3).toString('hex')}`, {
      maxConcurrentJobs: null,
      maxStorageBytes: null,
      predictPerMinute: null,
      ...quotas,
    });
    return addKey(db.prisma, tenant.id, scopes);
  };
  const main = await createTenant();

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await app.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await db.drop();
    await rm(storageDir, { recursive: true, force: true });
  };
  after(close);
  return { url, http: as(main.key), anonymous: supertest(url), ...main, adminKey, createTenant, as, app, db, config, queue, storageDir, close };
}

async function addKey(prisma: PrismaClient, tenantId: string, scopes: Scope[]): Promise<TenantKey> {
  const { key, lookup, hash } = generateKey();
  const row = await tenants.createKeyRow(prisma, { tenantId, lookup, hash, scopes });
  return { tenantId, key, keyId: row.id, headers: { authorization: `Bearer ${key}` } };
}

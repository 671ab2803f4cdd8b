import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { LEGACY_TENANT_ID, defaultMigrationsDir, dropDatabase, migrate } from '@graft/db';
import { createTestDatabase, serverUrl } from '../support/db.ts';

/** Every migration folder in prisma/migrations, in the order they apply. */
const allMigrations = (await readdir(defaultMigrationsDir, { withFileTypes: true }))
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

test('migrate creates the database, applies every migration once and records them like Prisma', async () => {
  const url = `${serverUrl}/graft_migrate_${process.pid}_${Date.now()}`;
  try {
    const first = await migrate(url);
    assert.equal(first.createdDatabase, true);
    assert.equal(allMigrations[0], '20261127000000_init');
    assert.deepEqual(first.applied, allMigrations);
    const again = await migrate(url);
    assert.deepEqual(again, { applied: [], createdDatabase: false });

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT * FROM "_prisma_migrations" ORDER BY migration_name');
      assert.equal(rows.length, allMigrations.length);
      for (const [i, name] of allMigrations.entries()) {
        const sql = await readFile(path.join(defaultMigrationsDir, name, 'migration.sql'));
        assert.equal(rows[i].checksum, createHash('sha256').update(sql).digest('hex'));
        assert.equal(rows[i].migration_name, name);
        assert.ok(rows[i].finished_at instanceof Date);
        assert.equal(rows[i].rolled_back_at, null);
        assert.equal(rows[i].applied_steps_count, 1);
        assert.match(rows[i].id, /^[0-9a-f-]{36}$/);
      }
      const tables = await client.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`);
      assert.deepEqual(tables.rows.map((r) => r.tablename), ['ApiKey', 'Dataset', 'EpochMetric', 'Evaluation', 'Job', 'Sweep', 'SweepRung', 'Tenant', '_prisma_migrations']);
    } finally {
      await client.end();
    }
  } finally {
    await dropDatabase(url);
  }
});

test('concurrent starts (API and worker together) migrate once', async () => {
  const url = `${serverUrl}/graft_migrate_race_${process.pid}_${Date.now()}`;
  try {
    const results = await Promise.all([migrate(url), migrate(url), migrate(url)]);
    assert.deepEqual(results.flatMap((r) => r.applied), allMigrations);
  } finally {
    await dropDatabase(url);
  }
});

test('the generated Prisma client works on the migrated schema', async () => {
  const { prisma } = await createTestDatabase('client');
  const job = await prisma.job.create({ data: { method: 'fine_tune', spec: { method: 'fine_tune', dataset: { url: 'x' } } } });
  assert.equal(job.status, 'queued');
  await prisma.epochMetric.create({ data: { jobId: job.id, epoch: 1, loss: 0.5, extra: { domainLoss: 0.1 } } });
  const read = await prisma.job.findUniqueOrThrow({ where: { id: job.id }, include: { epochs: true } });
  assert.equal(read.epochs[0]!.loss, 0.5);
});

test('rows from before tenants belong to the legacy tenant, with no quotas', async () => {
  const url = `${serverUrl}/graft_migrate_legacy_${process.pid}_${Date.now()}`;
  const only = async (name: string) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'graft-migrations-'));
    await cp(path.join(defaultMigrationsDir, name), path.join(dir, name), { recursive: true });
    return dir;
  };
  try {
    await migrate(url, { migrationsDir: await only('20261127000000_init') });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`INSERT INTO "Job" (id, method, spec, "updatedAt") VALUES (gen_random_uuid(), 'fine_tune', '{}', now())`);
      await migrate(url);
      const { rows } = await client.query('SELECT j."tenantId", t.name, t."maxConcurrentJobs" FROM "Job" j JOIN "Tenant" t ON t.id = j."tenantId"');
      assert.deepEqual(rows, [{ tenantId: LEGACY_TENANT_ID, name: 'default', maxConcurrentJobs: null }]);
    } finally {
      await client.end();
    }
  } finally {
    await dropDatabase(url);
  }
});

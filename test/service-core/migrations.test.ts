import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { defaultMigrationsDir, dropDatabase, migrate } from '@graft/db';
import { createTestDatabase, serverUrl } from '../support/db.ts';

// every migration of prisma/migrations, in the order they apply
const migrations = (await readdir(defaultMigrationsDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();

test('migrate creates the database, applies every migration once and records them like Prisma', async () => {
  const url = `${serverUrl}/graft_migrate_${process.pid}_${Date.now()}`;
  try {
    const first = await migrate(url);
    assert.equal(first.createdDatabase, true);
    assert.deepEqual(first.applied, migrations);
    assert.equal(migrations[0], '20261127000000_init');
    const again = await migrate(url);
    assert.deepEqual(again, { applied: [], createdDatabase: false });

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT * FROM "_prisma_migrations" ORDER BY migration_name');
      assert.deepEqual(rows.map((r) => r.migration_name), migrations);
      const sql = await readFile(path.join(defaultMigrationsDir, '20261127000000_init', 'migration.sql'));
      assert.equal(rows[0].checksum, createHash('sha256').update(sql).digest('hex'));
      assert.equal(rows[0].migration_name, '20261127000000_init');
      assert.ok(rows[0].finished_at instanceof Date);
      assert.equal(rows[0].rolled_back_at, null);
      assert.equal(rows[0].applied_steps_count, 1);
      assert.match(rows[0].id, /^[0-9a-f-]{36}$/);
      const tables = await client.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`);
      assert.deepEqual(tables.rows.map((r) => r.tablename), ['Dataset', 'EpochMetric', 'Evaluation', 'Job', '_prisma_migrations']);
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
    assert.deepEqual(results.flatMap((r) => r.applied), migrations);
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

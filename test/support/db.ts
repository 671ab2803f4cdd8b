// A throwaway database per test file: created and migrated with the real runner, dropped after.
import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import { createPrisma, dropDatabase, migrate, type PrismaClient } from '@graft/db';

export const serverUrl = process.env.TEST_DATABASE_SERVER ?? 'postgresql://postgres@127.0.0.1:5432';

export interface TestDatabase {
  url: string;
  prisma: PrismaClient;
  /** Disconnects and drops the database; also registered with node:test `after`, safe to call twice. */
  drop(): Promise<void>;
}

export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const name = `graft_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const url = `${serverUrl}/${name}`;
  await migrate(url);
  const prisma = createPrisma(url);
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await prisma.$disconnect();
    await dropDatabase(url);
  };
  after(drop);
  return { url, prisma, drop };
}

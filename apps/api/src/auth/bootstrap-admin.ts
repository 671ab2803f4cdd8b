// `npm start` on a fresh install: without GRAFT_ADMIN_KEY and without any admin key in Postgres, one
// admin key is created, printed once and written to a 0600 file (GRAFT_ADMIN_KEY_FILE, default
// var/admin-key) where graft-client finds it. Run by scripts/start.mjs after the migrations.
import { mkdir, writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';
import { LEGACY_TENANT_ID, tenants, type PrismaClient } from '@graft/db';
import { generateKey } from './keys.ts';

export type BootstrapOutcome = { created: false; why: 'env' | 'exists' } | { created: true; key: string; file: string };

export async function bootstrapAdminKey(prisma: PrismaClient, opts: { adminKey: string | undefined; file: string }): Promise<BootstrapOutcome> {
  if (opts.adminKey) return { created: false, why: 'env' };
  const existing = await prisma.apiKey.findFirst({ where: { revokedAt: null, scopes: { has: 'admin' } }, select: { id: true } });
  if (existing) return { created: false, why: 'exists' };
  const { key, lookup, hash } = generateKey();
  const file = path.resolve(opts.file);
  await mkdir(path.dirname(file), { recursive: true });
  // written before the row: a key that no file holds would lock the operator out
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  await chmod(file, 0o600); // an existing file keeps its old mode on writeFile
  await tenants.createKeyRow(prisma, { tenantId: LEGACY_TENANT_ID, name: 'bootstrap admin', lookup, hash, scopes: ['admin'] });
  return { created: true, key, file };
}

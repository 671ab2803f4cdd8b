// Tenants, their API keys and their quotas as rows: admission of a new job against maxConcurrentJobs in
// one transaction (the tenant row is locked, so two API processes cannot both admit the last slot), and
// what a tenant stores against maxStorageBytes. Key hashing and checking live in apps/api/src/auth.
import type { JobSpec } from '@graft/spec';
import type { ApiKey, Job, PrismaClient, Tenant } from './generated/client.ts';
import { Prisma } from './generated/client.ts';

/** Owns the rows from before tenants existed, and the operator's (admin) work; it has no quotas. */
export const LEGACY_TENANT_ID = '00000000-0000-0000-0000-000000000000';

export type Scope = 'train' | 'predict' | 'admin';
export const scopes: readonly Scope[] = ['train', 'predict', 'admin'];

export interface Quotas {
  maxConcurrentJobs: number | null;
  maxStorageBytes: number | null;
  predictPerMinute: number | null;
}

export function quotasOf(t: Tenant): Quotas {
  return {
    maxConcurrentJobs: t.maxConcurrentJobs,
    maxStorageBytes: t.maxStorageBytes === null ? null : Number(t.maxStorageBytes),
    predictPerMinute: t.predictPerMinute,
  };
}

export function createTenant(prisma: PrismaClient, name: string, quotas: Quotas): Promise<Tenant> {
  return prisma.tenant.create({
    data: {
      name,
      maxConcurrentJobs: quotas.maxConcurrentJobs,
      maxStorageBytes: quotas.maxStorageBytes === null ? null : BigInt(quotas.maxStorageBytes),
      predictPerMinute: quotas.predictPerMinute,
    },
  });
}

export function createKeyRow(prisma: PrismaClient, data: { tenantId: string; name?: string; lookup: string; hash: string; scopes: Scope[] }): Promise<ApiKey> {
  return prisma.apiKey.create({ data });
}

/** The key row for a lookup part, unless revoked (the caller compares the hash). */
export function findActiveKey(prisma: PrismaClient, lookup: string): Promise<ApiKey | null> {
  return prisma.apiKey.findFirst({ where: { lookup, revokedAt: null } });
}

export async function revokeKey(prisma: PrismaClient, id: string): Promise<boolean> {
  const { count } = await prisma.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
  return count === 1;
}

export const activeJobCount = (prisma: Prisma.TransactionClient | PrismaClient, tenantId: string) =>
  prisma.job.count({ where: { tenantId, status: { in: ['queued', 'running'] } } });

/** Bytes a tenant stores: uploaded archives plus checkpoints. */
export async function storedBytes(prisma: PrismaClient, tenantId: string): Promise<number> {
  const [datasets, checkpoints] = await Promise.all([
    prisma.dataset.aggregate({ where: { tenantId }, _sum: { sizeBytes: true } }),
    prisma.job.aggregate({ where: { tenantId }, _sum: { checkpointBytes: true } }),
  ]);
  return Number(datasets._sum.sizeBytes ?? 0n) + Number(checkpoints._sum.checkpointBytes ?? 0n);
}

export type Admission = { admitted: true; job: Job } | { admitted: false; active: number; limit: number };

/**
 * Creates the job row (queued) if the tenant has a free slot under maxConcurrentJobs. The tenant row is
 * locked FOR UPDATE for the count and the insert, so concurrent submissions are admitted one at a time.
 */
export function admitJob(prisma: PrismaClient, tenantId: string, spec: JobSpec): Promise<Admission> {
  return prisma.$transaction((tx) => admitInTransaction(tx, tenantId, spec));
}

/** admitJob inside the caller's transaction (a sweep's trials: `trial` names the sweep and the trial's index). */
export async function admitInTransaction(
  tx: Prisma.TransactionClient,
  tenantId: string,
  spec: JobSpec,
  trial?: { sweepId: string; trialIndex: number },
): Promise<Admission> {
  const [tenant] = await tx.$queryRaw<{ maxConcurrentJobs: number | null }[]>`
    SELECT "maxConcurrentJobs" FROM "Tenant" WHERE id = ${tenantId}::uuid FOR UPDATE`;
  if (!tenant) throw new Error(`tenant ${tenantId} does not exist`);
  const limit = tenant.maxConcurrentJobs;
  if (limit !== null) {
    const active = await activeJobCount(tx, tenantId);
    if (active >= limit) return { admitted: false as const, active, limit };
  }
  const job = await tx.job.create({ data: { tenantId, method: spec.method, spec: spec as unknown as Prisma.InputJsonValue, ...trial } });
  return { admitted: true as const, job };
}

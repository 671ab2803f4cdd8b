// A checkpoint counts against its tenant's maxStorageBytes: measured on disk before it is uploaded, and
// refused (the job fails with quota_exceeded, nothing is stored) when it would pass the quota.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { tenants, type PrismaClient } from '@graft/db';
import { ErrorCode, GraftError } from '@graft/spec';

async function folderBytes(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const sizes = await Promise.all(entries.filter((e) => e.isFile()).map(async (e) => (await stat(path.join(e.parentPath, e.name))).size));
  return sizes.reduce((a, b) => a + b, 0);
}

/** The checkpoint's size in bytes, once it is known to fit the tenant's storage quota. */
export async function admitCheckpoint(prisma: PrismaClient, jobId: string, dir: string): Promise<number> {
  const bytes = await folderBytes(dir);
  const { tenant } = await prisma.job.findUniqueOrThrow({ where: { id: jobId }, select: { tenant: true } });
  if (tenant.maxStorageBytes === null) return bytes;
  const used = await tenants.storedBytes(prisma, tenant.id);
  if (used + bytes > Number(tenant.maxStorageBytes)) {
    throw new GraftError(
      ErrorCode.quotaExceeded,
      `the trained model (${bytes} bytes) does not fit the tenant's storage quota (maxStorageBytes ${tenant.maxStorageBytes}, ${used} bytes used); delete datasets or ask the operator for more, then submit again`,
    );
  }
  return bytes;
}

export { createPrisma } from './client.ts';
export { migrate, defaultMigrationsDir, type MigrateResult } from './migrate.ts';
export { ensureDatabase, dropDatabase } from './database.ts';
export { PrismaClient, Prisma, JobStatus } from './generated/client.ts';
export type { Job, EpochMetric, Evaluation, Dataset, Tenant, ApiKey } from './generated/client.ts';
export * as jobLifecycle from './job-lifecycle.ts';
export * as tenants from './tenants.ts';
export { LEGACY_TENANT_ID, scopes, type Scope, type Quotas } from './tenants.ts';

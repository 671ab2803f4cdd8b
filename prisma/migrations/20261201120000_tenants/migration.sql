-- Tenants and API keys. Rows from before tenants belong to the legacy tenant (fixed id, no quotas):
-- a constant column default is metadata-only in Postgres 11+, and the foreign keys are added NOT VALID
-- then validated, so large tables are neither rewritten nor locked for long.

-- CreateTable
CREATE TABLE "Tenant" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "maxConcurrentJobs" INTEGER,
    "maxStorageBytes" BIGINT,
    "predictPerMinute" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Tenant_pkey" PRIMARY KEY ("id")
);

INSERT INTO "Tenant" ("id", "name") VALUES ('00000000-0000-0000-0000-000000000000', 'default');

-- CreateTable
CREATE TABLE "ApiKey" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "name" TEXT,
    "lookup" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "scopes" TEXT[],
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revokedAt" TIMESTAMP(3),

    CONSTRAINT "ApiKey_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "ApiKey_lookup_key" ON "ApiKey"("lookup");

ALTER TABLE "ApiKey" ADD CONSTRAINT "ApiKey_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AlterTable
ALTER TABLE "Job" ADD COLUMN "tenantId" UUID NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000',
ADD COLUMN "checkpointBytes" BIGINT;

ALTER TABLE "Dataset" ADD COLUMN "tenantId" UUID NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000';

CREATE INDEX "Job_tenantId_createdAt_idx" ON "Job"("tenantId", "createdAt");
CREATE INDEX "Dataset_tenantId_idx" ON "Dataset"("tenantId");

ALTER TABLE "Job" ADD CONSTRAINT "Job_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE NOT VALID;
ALTER TABLE "Job" VALIDATE CONSTRAINT "Job_tenantId_fkey";
ALTER TABLE "Dataset" ADD CONSTRAINT "Dataset_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE NOT VALID;
ALTER TABLE "Dataset" VALIDATE CONSTRAINT "Dataset_tenantId_fkey";

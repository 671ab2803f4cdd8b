-- Sweeps (hyper-parameter searches): a Sweep row, its trials are Job rows carrying sweepId, and
-- ASHA's rung records. New nullable Job columns: metadata-only, no table rewrite.

-- CreateEnum
CREATE TYPE "SweepStatus" AS ENUM ('queued', 'running', 'succeeded', 'failed', 'cancelled');

-- CreateTable
CREATE TABLE "Sweep" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "spec" JSONB NOT NULL,
    "status" "SweepStatus" NOT NULL DEFAULT 'queued',
    "bestJobId" UUID,
    "bestObjective" DOUBLE PRECISION,
    "errorCode" TEXT,
    "errorMessage" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Sweep_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SweepRung" (
    "sweepId" UUID NOT NULL,
    "rung" INTEGER NOT NULL,
    "jobId" UUID NOT NULL,
    "objective" DOUBLE PRECISION NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SweepRung_pkey" PRIMARY KEY ("sweepId","rung","jobId")
);

-- AlterTable
ALTER TABLE "Job" ADD COLUMN "sweepId" UUID,
ADD COLUMN "trialIndex" INTEGER;

CREATE INDEX "Sweep_tenantId_createdAt_idx" ON "Sweep"("tenantId", "createdAt");
CREATE INDEX "Sweep_status_idx" ON "Sweep"("status");
CREATE UNIQUE INDEX "Job_sweepId_trialIndex_key" ON "Job"("sweepId", "trialIndex");

ALTER TABLE "Sweep" ADD CONSTRAINT "Sweep_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "SweepRung" ADD CONSTRAINT "SweepRung_sweepId_fkey" FOREIGN KEY ("sweepId") REFERENCES "Sweep"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "SweepRung" ADD CONSTRAINT "SweepRung_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;
-- NOT VALID then VALIDATE: no long lock on a large Job table (every existing row has a null sweepId)
ALTER TABLE "Job" ADD CONSTRAINT "Job_sweepId_fkey" FOREIGN KEY ("sweepId") REFERENCES "Sweep"("id") ON DELETE SET NULL ON UPDATE CASCADE NOT VALID;
ALTER TABLE "Job" VALIDATE CONSTRAINT "Job_sweepId_fkey";

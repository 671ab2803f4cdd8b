// Turns a job's dataset reference into a local, validated ImageDataset: an uploaded dataset id is
// fetched from storage, a URL is handed to @graft/datasets (http(s), s3:// on the configured endpoint,
// file:// inside DATASETS_DIR).
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '@graft/config';
import type { PrismaClient } from '@graft/db';
import { prepareDataset, type ImageDataset } from '@graft/datasets';
import { GraftError, ErrorCode, type DatasetRef } from '@graft/spec';
import { downloadFile, openS3Object, type Storage } from '@graft/storage';

export interface DatasetDeps {
  config: Config;
  prisma: PrismaClient;
  storage: Storage;
  s3Client: () => S3Client;
}

export async function loadDataset(
  deps: DatasetDeps,
  ref: DatasetRef,
  opts: { role: string; destDir: string; requireLabels: boolean; signal: AbortSignal; onStage?: (step: string) => Promise<void> },
): Promise<ImageDataset> {
  const common = {
    destDir: opts.destDir,
    requireLabels: opts.requireLabels,
    limits: deps.config.datasetLimits,
    // images go from the archive to the engine's one decode at the training size, in memory while they fit
    decodeInEngine: { maxInMemoryBytes: deps.config.datasetMemoryBytes },
    signal: opts.signal,
    onStage: opts.onStage,
  };
  if ('id' in ref) {
    const row = await deps.prisma.dataset.findUnique({ where: { id: ref.id } }).catch(() => null);
    if (!row) {
      throw new GraftError(ErrorCode.notFound, `${opts.role}: no uploaded dataset with id '${ref.id}'; upload it with POST /datasets and use the id returned`);
    }
    const archivePath = path.join(opts.destDir, '..', `${path.basename(opts.destDir)}.archive`);
    await opts.onStage?.('download');
    await downloadFile(deps.storage, row.storageKey, archivePath);
    return prepareDataset({ archivePath }, common);
  }
  return prepareDataset(
    { url: ref.url },
    {
      ...common,
      allowedFileRoot: path.resolve(deps.config.datasetsDir),
      openS3: (bucket, key) => openS3Object(deps.s3Client(), bucket, key),
    },
  );
}

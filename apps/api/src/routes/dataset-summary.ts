// GET /datasets/:id/summary: what a job would find in an uploaded archive (classes, images per class, their
// size, the files it would skip and why), so a user sees a wrong layout before training.
import { Type } from '@sinclair/typebox';
import { ErrorBody } from '@graft/spec';
import { ref } from '../schemas.ts';
import { DatasetSummary, type DatasetSummaries } from '../dataset-summaries.ts';
import { findDataset } from './datasets.ts';
import type { RoutePlugin } from '../schemas.ts';

const datasetSummary: RoutePlugin<{ summaries: DatasetSummaries }> = async (app, { summaries }) => {
  app.get(
    '/datasets/:id/summary',
    {
      config: { scope: 'train' },
      schema: {
        tags: ['datasets'],
        summary: 'What a job would find in an uploaded dataset',
        description: 'Classes with their image counts, the images\' median size and the skipped entries with reasons, read the way a worker reads the archive. 400 with the job error code (no_images, bad_labels, …) when no job could use it.',
        params: Type.Object({ id: Type.String() }),
        response: { 200: DatasetSummary, 400: ref(ErrorBody), 404: ref(ErrorBody) },
      },
    },
    async (req) => {
      const row = await findDataset(app, req.params.id, req.principal.tenantId);
      return (await summaries.get(row.id, row.storageKey)).summary;
    },
  );
};

export default datasetSummary;

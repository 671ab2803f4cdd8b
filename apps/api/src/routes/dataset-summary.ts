// GET /datasets/:id/summary: what a job would find in an uploaded archive (classes, images per class, the files
// it would skip and why), so a user sees a wrong layout before training. The archive is read exactly as the
// worker reads it (@graft/datasets' prepareDataset), once per dataset: uploads never change, so the answer is kept.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { prepareDataset } from '@graft/datasets';
import { ErrorBody } from '@graft/spec';
import { downloadFile } from '@graft/storage';
import { ref, type RoutePlugin } from '../schemas.ts';
import { findDataset } from './datasets.ts';

const DatasetSummary = Type.Object({
  id: Type.String(),
  images: Type.Integer({ description: 'Usable images.' }),
  unlabelled: Type.Integer({ description: 'Usable images without a class (fine as a domain_adaptation target).' }),
  classes: Type.Array(Type.Object({ label: Type.String(), images: Type.Integer() })),
  skipped: Type.Array(Type.Object({ entry: Type.String(), reason: Type.String() }), { description: 'Entries a job ignores, with the reason.' }),
});
type DatasetSummary = Static<typeof DatasetSummary>;

// Enough for every dataset a console session looks at; the oldest answer goes first.
const keep = 256;

const datasetSummary: RoutePlugin = async (app) => {
  const known = new Map<string, Promise<DatasetSummary>>();
  // One archive is extracted at a time, so many requests cannot fill the API's disk or cores at once.
  let previous: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(work: () => Promise<T>): Promise<T> => {
    const run = previous.then(work);
    previous = run.catch(() => undefined);
    return run;
  };

  async function summarize(id: string, storageKey: string): Promise<DatasetSummary> {
    const work = await mkdtemp(path.join(tmpdir(), 'graft-summary-'));
    try {
      const archivePath = path.join(work, 'archive');
      await downloadFile(app.storage, storageKey, archivePath);
      const ds = await prepareDataset({ archivePath }, { destDir: path.join(work, 'files'), requireLabels: false, limits: app.config.datasetLimits });
      const counts = new Map(ds.labels.map((l) => [l, 0]));
      for (const item of ds.items) if (item.label !== null) counts.set(item.label, counts.get(item.label)! + 1);
      return {
        id,
        images: ds.items.length,
        unlabelled: ds.items.filter((i) => i.label === null).length,
        classes: [...counts].map(([label, images]) => ({ label, images })),
        skipped: ds.skipped,
      };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  app.get(
    '/datasets/:id/summary',
    {
      config: { scope: 'train' },
      schema: {
        tags: ['datasets'],
        summary: 'What a job would find in an uploaded dataset',
        description: 'Classes with their image counts and the skipped entries with reasons, read the way a worker reads the archive. 400 with the job error code (no_images, bad_labels, …) when no job could use it.',
        params: Type.Object({ id: Type.String() }),
        response: { 200: DatasetSummary, 400: ref(ErrorBody), 404: ref(ErrorBody) },
      },
    },
    async (req) => {
      const { id } = req.params;
      const row = await findDataset(app, id, req.principal.tenantId);
      let summary = known.get(id);
      if (!summary) {
        summary = oneAtATime(() => summarize(id, row.storageKey));
        known.set(id, summary);
        if (known.size > keep) known.delete(known.keys().next().value!);
        // A failure (storage down, a bad archive) is not kept: it is reported now and tried again next time.
        summary.catch(() => known.delete(id));
      }
      return summary;
    },
  );
};

export default datasetSummary;

// What a job would find in an uploaded archive, read exactly as a worker reads it (@graft/datasets'
// prepareDataset), once per dataset: uploads never change, so the answer is kept. GET /datasets/:id/summary
// shows it; POST /jobs/preview resolves a job's hyper-parameters from it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { prepareDataset, type DatasetLimits } from '@graft/datasets';
import { medianSide, sampleNativeSides } from '@graft/engine';
import { downloadFile, type Storage } from '@graft/storage';

export const DatasetSummary = Type.Object({
  id: Type.String(),
  images: Type.Integer({ description: 'Usable images.' }),
  unlabelled: Type.Integer({ description: 'Usable images without a class (fine as a domain_adaptation target).' }),
  classes: Type.Array(Type.Object({ label: Type.String(), images: Type.Integer() })),
  medianSide: Type.Union([Type.Number(), Type.Null()], { description: "Median of the images' shorter sides in pixels (all their recorded sizes), null when unknown." }),
  skipped: Type.Array(Type.Object({ entry: Type.String(), reason: Type.String() }), { description: 'Entries a job ignores, with the reason.' }),
});
export type DatasetSummary = Static<typeof DatasetSummary>;

/** A summary and the shorter sides it sampled, which combine across datasets (DANN sizes its images over both). */
export interface SummaryFacts {
  summary: DatasetSummary;
  sides: number[];
}

// Enough for every dataset a console session looks at; the oldest answer goes first.
const keep = 256;

export class DatasetSummaries {
  private readonly known = new Map<string, Promise<SummaryFacts>>();
  // One archive is extracted at a time, so many requests cannot fill the API's disk or cores at once.
  private previous: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: { storage: Storage; limits: DatasetLimits }) {}

  /** The summary of an uploaded dataset (its row already checked to be the caller's). */
  get(id: string, storageKey: string): Promise<SummaryFacts> {
    let facts = this.known.get(id);
    if (!facts) {
      const run = this.previous.then(() => this.summarize(id, storageKey));
      this.previous = run.catch(() => undefined);
      facts = run;
      this.known.set(id, facts);
      if (this.known.size > keep) this.known.delete(this.known.keys().next().value!);
      // A failure (storage down, a bad archive) is not kept: it is reported now and tried again next time.
      facts.catch(() => this.known.delete(id));
    }
    return facts;
  }

  private async summarize(id: string, storageKey: string): Promise<SummaryFacts> {
    const work = await mkdtemp(path.join(tmpdir(), 'graft-summary-'));
    try {
      const archivePath = path.join(work, 'archive');
      await downloadFile(this.deps.storage, storageKey, archivePath);
      const ds = await prepareDataset({ archivePath }, { destDir: path.join(work, 'files'), requireLabels: false, limits: this.deps.limits });
      const counts = new Map(ds.labels.map((l) => [l, 0]));
      for (const item of ds.items) if (item.label !== null) counts.set(item.label, counts.get(item.label)! + 1);
      const sides = await sampleNativeSides(ds.items);
      const summary = {
        id,
        images: ds.items.length,
        unlabelled: ds.items.filter((i) => i.label === null).length,
        classes: [...counts].map(([label, images]) => ({ label, images })),
        medianSide: medianSide(sides),
        skipped: ds.skipped,
      };
      return { summary, sides };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
}

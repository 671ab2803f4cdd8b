// Small labelled image datasets for the engine's method tests, built as real zip archives and opened through
// @graft/datasets exactly as a job would open them.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { prepareDataset, type ImageDataset } from '@graft/datasets';
import { makeImageFolderZip, defaultPatterns, type FolderDatasetOptions } from '../support/images.ts';

export const twoClasses = defaultPatterns.slice(0, 2);
export const otherTwoClasses = defaultPatterns.slice(2, 4);

export class DatasetFactory {
  private constructor(readonly root: string) {}
  private n = 0;

  static async create(): Promise<DatasetFactory> {
    return new DatasetFactory(await mkdtemp(path.join(tmpdir(), 'graft-engine-test-')));
  }

  async make(opts: FolderDatasetOptions & { requireLabels?: boolean }): Promise<ImageDataset> {
    const name = `ds${this.n++}`;
    const archivePath = path.join(this.root, `${name}.zip`);
    await writeFile(archivePath, await makeImageFolderZip(opts));
    return prepareDataset({ archivePath }, { destDir: path.join(this.root, name), requireLabels: opts.requireLabels ?? true });
  }

  async cleanup(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

// Running prepareDataset on an in-memory archive in a throw-away folder, and asserting the user-facing error.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { prepareDataset, type ImageDataset, type PrepareOptions } from '@graft/datasets';
import { GraftError } from '@graft/spec';

export interface Scratch {
  dir: string;
  /** a fresh, not yet existing destDir inside the scratch folder */
  dest(): string;
  /** writes an archive file and returns its path */
  file(name: string, data: Buffer): Promise<string>;
  cleanup(): Promise<void>;
}

export async function scratch(): Promise<Scratch> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'graft-datasets-test-'));
  let n = 0;
  return {
    dir,
    dest: () => path.join(dir, `dest-${n++}`),
    async file(name, data) {
      const p = path.join(dir, name);
      await writeFile(p, data);
      return p;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

type Options = Omit<PrepareOptions, 'destDir'> & { destDir?: string };

export async function prepareArchive(s: Scratch, archive: Buffer, opts: Options): Promise<ImageDataset> {
  const archivePath = await s.file(`archive-${Math.random().toString(36).slice(2)}`, archive);
  return prepareDataset({ archivePath }, { destDir: s.dest(), ...opts });
}

/**
 * Asserts the job would fail with `code` and a message matching every pattern (what is wrong + what to do),
 * and that nothing was left behind in destDir.
 */
export async function assertFails(
  run: (destDir: string) => Promise<unknown>,
  s: Scratch,
  code: string,
  ...message: RegExp[]
): Promise<GraftError> {
  const destDir = s.dest();
  let caught: unknown;
  try {
    await run(destDir);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof GraftError, `expected a GraftError ${code}, got ${caught === undefined ? 'success' : String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const m of message) assert.match(caught.message, m);
  assert.equal(existsSync(destDir), false, 'a failed preparation must remove its destDir');
  return caught;
}

/** assertFails for an in-memory archive. */
export async function assertArchiveFails(s: Scratch, archive: Buffer, opts: Options, code: string, ...message: RegExp[]): Promise<GraftError> {
  const archivePath = await s.file(`archive-${Math.random().toString(36).slice(2)}`, archive);
  return assertFails((destDir) => prepareDataset({ archivePath }, { ...opts, destDir }), s, code, ...message);
}

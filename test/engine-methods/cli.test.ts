// The `graft train` CLI trains from a local archive and writes a checkpoint, as a user would run it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeImageFolderZip } from '../support/images.ts';
import { twoClasses } from './fixtures.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

test('graft train --method feature_extraction writes a loadable checkpoint and prints the evaluation', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'graft-cli-test-'));
  try {
    const archive = path.join(dir, 'shapes.zip');
    await writeFile(archive, await makeImageFolderZip({ patterns: twoClasses, perClass: 10, size: 48, topFolder: 'shapes', seed: 31 }));
    const out = path.join(dir, 'model');
    const { stdout, stderr } = await run(
      'node',
      ['--import', 'tsx', 'packages/engine/src/cli.ts', 'train', '--method', 'feature_extraction', '--data', archive, '--image-size', '64', '--seed', '3', '--out', out],
      { cwd: root },
    );
    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!);
    assert.deepEqual(summary.labels, ['green_circle', 'red_square']);
    assert.ok(summary.accuracy >= 0.8, `accuracy ${summary.accuracy}`);
    assert.match(stderr, /data: 20 images, 2 classes/);
    assert.deepEqual((await readdir(out)).sort(), ['metadata.json', 'model.json', 'weights.bin']);
    const metadata = JSON.parse(await readFile(path.join(out, 'metadata.json'), 'utf8'));
    assert.equal(metadata.method, 'feature_extraction');
    assert.equal(metadata.preprocessing.imageSize, 64);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('graft train without --data explains the usage and fails', async () => {
  await assert.rejects(run('node', ['--import', 'tsx', 'packages/engine/src/cli.ts', 'train', '--method', 'fine_tune'], { cwd: root }), (err: { code: number; stderr: string }) => {
    assert.equal(err.code, 1);
    assert.match(err.stderr, /--method, --data and --out are required/);
    return true;
  });
});

// How long preparing a dataset takes (extract + label + check every image), per archive and image kind.
// Run: node --import tsx bench/datasets/prepare-dataset.ts
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { prepareDataset } from '@graft/datasets';
import { defaultPatterns, makeImageFolderFiles, zipEntries } from '../../test/support/images.ts';
import { pngClaiming, tarEntries } from '../../test/support/archives.ts';

interface Case {
  name: string;
  archive: () => Promise<Buffer>;
}

const folder = (format: 'png' | 'jpeg', size: number, perClass: number) =>
  makeImageFolderFiles({ patterns: defaultPatterns, perClass, size, format });
const asTarGz = (files: Map<string, Buffer>) => tarEntries([...files].map(([name, data]) => ({ name, data })), { gzip: true });

const cases: Case[] = [
  { name: 'zip, 2000 PNG 64 px', archive: async () => zipEntries(await folder('png', 64, 500)) },
  { name: 'tar.gz, 2000 JPEG 64 px', archive: async () => asTarGz(await folder('jpeg', 64, 500)) },
  { name: 'zip, 200 JPEG 512 px', archive: async () => zipEntries(await folder('jpeg', 512, 50)) },
  { name: 'zip, 200 PNG 512 px', archive: async () => zipEntries(await folder('png', 512, 50)) },
  {
    name: 'zip, 8 PNG 64 px + 20000x20000 pixel bomb (refused)',
    archive: async () => zipEntries(new Map([...(await folder('png', 64, 2)), ['red_square/bomb.png', pngClaiming(20000, 20000)]])),
  },
];

const work = await mkdtemp(path.join(os.tmpdir(), 'graft-bench-datasets-'));
const rows: string[][] = [];
try {
  for (const c of cases) {
    const archive = await c.archive();
    const archivePath = path.join(work, 'archive');
    await writeFile(archivePath, archive);
    const times: number[] = [];
    let outcome = '';
    for (let run = 0; run < 3; run++) {
      const destDir = path.join(work, `dest-${run}`);
      const started = performance.now();
      try {
        const ds = await prepareDataset({ archivePath }, { destDir, requireLabels: true });
        outcome = `${ds.items.length} images`;
      } catch (err) {
        outcome = (err as { code?: string }).code ?? String(err);
      }
      times.push(performance.now() - started);
      await rm(destDir, { recursive: true, force: true });
    }
    const median = times.sort((a, b) => a - b)[1]!;
    const n = Number.parseInt(outcome, 10);
    rows.push([c.name, `${(archive.length / 2 ** 20).toFixed(1)} MiB`, outcome, `${median.toFixed(0)} ms`, Number.isFinite(n) ? `${((n / median) * 1000).toFixed(0)}` : '–']);
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

const header = ['case', 'archive', 'result', 'median of 3', 'images/s'];
console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log(`\n${os.cpus().length} cores, node ${process.version}, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);

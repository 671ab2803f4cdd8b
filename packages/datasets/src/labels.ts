// Where the labels of an extracted archive come from: a labels.csv (path,label) next to the data, or the
// ImageFolder layout <class>/<image>, either of them optionally inside wrapper folders (zipping a folder adds one).
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode, GraftError } from '@graft/spec';
import type { SkippedEntry } from './image-dataset.ts';

export interface LabelledFile {
  /** relative POSIX path under the extraction root */
  rel: string;
  label: string | null;
}

export interface DatasetLayout {
  /** 'flat' = images without class folders or labels.csv (an unlabelled dataset) */
  kind: 'folders' | 'csv' | 'flat';
  files: LabelledFile[];
  skipped: SkippedEntry[];
}

const labelsFileName = 'labels.csv';

/** Assigns a label to every extracted file (images are checked later); `files` are relative POSIX paths. */
export async function readLayout(root: string, files: string[], requireLabels: boolean): Promise<DatasetLayout> {
  const levels = wrapperLevels(files);
  const csv = levels.map((level) => files.find((f) => f.startsWith(level) && f.slice(level.length).toLowerCase() === labelsFileName)).find((f) => f !== undefined);
  if (csv) return readLabelsCsv(root, csv, files);

  // The innermost wrapper may hold images only: then it is a class of its own when labels are required (and too
  // few classes will be reported), or a plain folder of unlabelled images when they are not.
  let base = levels.at(-1)!;
  const inClassFolder = (f: string) => f.slice(base.length).includes('/');
  if (levels.length > 1 && requireLabels && !files.some(inClassFolder)) base = levels.at(-2)!;
  if (!files.some(inClassFolder)) return { kind: 'flat', files: files.map((rel) => ({ rel, label: null })), skipped: [] };
  const layout: DatasetLayout = { kind: 'folders', files: [], skipped: [] };
  for (const rel of files) {
    if (inClassFolder(rel)) layout.files.push({ rel, label: rel.slice(base.length).split('/')[0]! });
    else layout.skipped.push({ entry: rel, reason: 'not inside a class folder; move it into the folder of its class' });
  }
  return layout;
}

/**
 * Prefixes of the folders that wrap everything ('' first): zipping a folder adds one ("mydata/"), exports often
 * two ("mydata/train/"). They are not classes.
 */
function wrapperLevels(files: string[]): string[] {
  const levels = [''];
  for (;;) {
    const base = levels.at(-1)!;
    const tops = new Set(files.map((f) => f.slice(base.length).split('/')[0]!));
    if (tops.size !== 1 || !files.every((f) => f.slice(base.length).includes('/'))) return levels;
    levels.push(`${base}${[...tops][0]}/`);
  }
}

const pathHeaders = new Set(['path', 'file', 'filename', 'file_name', 'filepath', 'image', 'image_path', 'img']);
const labelHeaders = new Set(['label', 'labels', 'class', 'category', 'target']);

// Ample for 200,000 lines; read whole, so it must not be allowed to fill the memory.
const maxLabelsBytes = 64 * 1024 * 1024;

async function readLabelsCsv(root: string, csvRel: string, files: string[]): Promise<DatasetLayout> {
  const file = path.join(root, csvRel);
  if ((await stat(file)).size > maxLabelsBytes) {
    throw new GraftError(ErrorCode.badLabels, `${csvRel} is larger than 64 MiB; it should hold one short 'path,label' line per image`);
  }
  const text = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '');
  const rows = parseCsv(text, csvRel);
  if (rows.length > 0 && pathHeaders.has(rows[0]!.cells[0]!.trim().toLowerCase()) && labelHeaders.has((rows[0]!.cells[1] ?? '').trim().toLowerCase())) {
    rows.shift();
  }
  if (rows.length === 0) {
    throw new GraftError(ErrorCode.badLabels, `${csvRel} has no rows; write one 'path,label' line per image (e.g. cat/1.jpg,cat)`);
  }
  const present = new Set(files);
  const csvDir = path.posix.dirname(csvRel);
  const labelOf = new Map<string, string>();
  const missing: string[] = [];
  for (const { line, cells } of rows) {
    const where = `${csvRel} line ${line}`;
    if (cells.length !== 2) {
      throw new GraftError(
        ErrorCode.badLabels,
        `${where} has ${cells.length} field(s); each line must be 'path,label' (quote a path or label that contains a comma)`,
      );
    }
    const [rawPath, rawLabel] = cells.map((c) => c.trim()) as [string, string];
    if (!rawPath || !rawLabel) throw new GraftError(ErrorCode.badLabels, `${where} has an empty ${rawPath ? 'label' : 'path'}; fill it in or remove the line`);
    const rel = resolveListedPath(rawPath, where, csvDir, present);
    if (rel === null) {
      missing.push(rawPath);
      continue;
    }
    const earlier = labelOf.get(rel);
    if (earlier !== undefined && earlier !== rawLabel) {
      throw new GraftError(ErrorCode.badLabels, `${where} labels '${rawPath}' as '${rawLabel}' but an earlier line says '${earlier}'; keep one label per image`);
    }
    labelOf.set(rel, rawLabel);
  }
  if (missing.length > 0) {
    const examples = missing.slice(0, 5).map((m) => `'${m}'`).join(', ');
    throw new GraftError(
      ErrorCode.badLabels,
      `${csvRel} lists ${missing.length} file(s) that are not in the archive (${examples}${missing.length > 5 ? ', …' : ''}); ` +
        `paths must be relative to the archive root or to the folder of ${labelsFileName}`,
    );
  }
  const layout: DatasetLayout = { kind: 'csv', files: [], skipped: [] };
  for (const rel of files) {
    if (rel === csvRel) continue;
    const label = labelOf.get(rel);
    if (label !== undefined) layout.files.push({ rel, label });
    else layout.skipped.push({ entry: rel, reason: `not listed in ${labelsFileName}` });
  }
  return layout;
}

/** The archive file a labels.csv path names (relative to labels.csv's folder, else to the archive root), or null. */
function resolveListedPath(listed: string, where: string, csvDir: string, present: Set<string>): string | null {
  const normalised = listed.replace(/\\/g, '/');
  const segments = normalised.split('/').filter((s) => s !== '' && s !== '.');
  if (normalised.startsWith('/') || /^[a-zA-Z]:/.test(normalised) || segments.includes('..')) {
    throw new GraftError(
      ErrorCode.pathTraversal,
      `${where}: path '${listed}' points outside the archive; use paths relative to the archive root, like cat/1.jpg`,
    );
  }
  const rel = segments.join('/');
  const candidates = csvDir === '.' ? [rel] : [`${csvDir}/${rel}`, rel];
  return candidates.find((c) => present.has(c)) ?? null;
}

interface CsvRow {
  line: number;
  cells: string[];
}

/** RFC 4180 records (quoted fields, "" escapes, CRLF or LF); blank lines are dropped. */
function parseCsv(text: string, name: string): CsvRow[] {
  const rows: CsvRow[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  const endRow = () => {
    cells.push(cell);
    if (cells.length > 1 || cells[0]!.trim() !== '') rows.push({ line: rowLine, cells });
    cells = [];
    cell = '';
    rowLine = line;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        cell += ch;
      }
    } else if (ch === '"' && cell.trim() === '') {
      cell = '';
      quoted = true;
    } else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      line++;
      endRow();
    } else cell += ch;
  }
  if (quoted) throw new GraftError(ErrorCode.badLabels, `${name} line ${rowLine} has an unclosed quote ("); close it or remove the quote`);
  endRow();
  return rows;
}

// Which kind of archive a file is, from its first bytes (never from its name or a Content-Type header), and a
// precise refusal when it is none of the supported kinds.
import { open } from 'node:fs/promises';
import { ErrorCode, GraftError } from '@graft/spec';

export type ArchiveFormat = 'zip' | 'tar' | 'tar.gz';

const supported = 'upload a zip, tar or tar.gz archive of class folders (<class>/<image>)';

export async function detectArchiveFormat(file: string): Promise<ArchiveFormat> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return archiveFormatOf(buf.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

/**
 * The format of an archive from its first bytes (512 are enough; an upload can be checked before it is stored).
 * Throws not_an_archive saying what the bytes look like instead.
 */
export function archiveFormatOf(head: Buffer): ArchiveFormat {
  if (head.length === 0) throw new GraftError(ErrorCode.notAnArchive, `the file is empty; ${supported}`);
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06])) return 'zip';
  if (startsWith(head, [0x1f, 0x8b])) return 'tar.gz';
  if (looksLikeTar(head)) return 'tar';
  throw new GraftError(ErrorCode.notAnArchive, `${describeOther(head)}; ${supported}`);
}

/** A tar header block: POSIX "ustar" magic, or (old v7 archives) a correct header checksum. */
export function looksLikeTar(block: Buffer): boolean {
  if (block.length < 512) return false;
  if (block.toString('latin1', 257, 262) === 'ustar') return true;
  const stored = parseInt(block.toString('latin1', 148, 156).replace(/\0.*$/, '').trim(), 8);
  if (!Number.isFinite(stored)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum === stored && block[0] !== 0;
}

// Users upload the wrong thing in predictable ways; naming it tells them what to do instead.
const knownSignatures: [number[], string][] = [
  [[0x52, 0x61, 0x72, 0x21], 'a RAR archive, which is not supported'],
  [[0x37, 0x7a, 0xbc, 0xaf], 'a 7-Zip archive, which is not supported'],
  [[0x42, 0x5a, 0x68], 'bzip2-compressed, which is not supported'],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'xz-compressed, which is not supported'],
  [[0x28, 0xb5, 0x2f, 0xfd], 'zstd-compressed, which is not supported'],
  [[0x89, 0x50, 0x4e, 0x47], 'a single PNG image, not an archive'],
  [[0xff, 0xd8, 0xff], 'a single JPEG image, not an archive'],
  [[0x47, 0x49, 0x46, 0x38], 'a single GIF image, not an archive'],
  [[0x25, 0x50, 0x44, 0x46], 'a PDF document, not an archive'],
];

function describeOther(head: Buffer): string {
  for (const [magic, what] of knownSignatures) if (startsWith(head, magic)) return `the file is ${what}`;
  const text = head.toString('latin1', 0, 64).trimStart().toLowerCase();
  if (text.startsWith('<!doctype html') || text.startsWith('<html')) {
    return 'the file is an HTML page, not an archive (the URL probably points to a web page instead of a direct download link)';
  }
  return 'the file is not a zip, tar or tar.gz archive';
}

function startsWith(buf: Buffer, magic: number[]): boolean {
  return buf.length >= magic.length && magic.every((b, i) => buf[i] === b);
}

// API keys: `graft_<lookup>_<secret>`. The lookup part finds the row; the whole key is stored only as
// its sha256 and compared in constant time. Keys carry 256 random bits, so a fast hash is enough (a
// slow password hash defends guessable secrets, which these are not).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const keyPattern = /^graft_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export interface NewKey {
  key: string;
  lookup: string;
  hash: string;
}

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

export function generateKey(): NewKey {
  const lookup = randomBytes(9).toString('base64url').replace(/[-_]/g, 'x').slice(0, 12);
  const key = `graft_${lookup}_${randomBytes(32).toString('base64url')}`;
  return { key, lookup, hash: hashKey(key) };
}

/** The lookup part of a well-formed key, else null. */
export function lookupOf(key: string): string | null {
  return keyPattern.exec(key)?.[1] ?? null;
}

/** Constant-time equality of a presented key and a stored hash (or another key's hash). */
export function matchesHash(presented: string, storedHash: string): boolean {
  const a = Buffer.from(hashKey(presented), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

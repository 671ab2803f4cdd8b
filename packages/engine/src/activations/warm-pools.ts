// Prefix pools kept warm between training runs of one process (a service worker's job thread): a pool's worker
// threads, their ONNX Runtime sessions and the prefix's ONNX export cost ~1–2 s per run to rebuild, and a
// registered backbone's frozen prefix is the same bytes in every job. Off unless the process asks for it (a
// library caller or the CLI must be able to exit); bounded by count and by the prefix weights each pool holds.
import type * as tf from '@tensorflow/tfjs';
import type { PrefixPool } from './prefix-pool.ts';

/** What one idle thread of a pool holds besides the weights (its isolate, sharp, a runtime session's arena): measured order of magnitude. */
const perThreadBytes = 96 * 1024 * 1024;

/** The memory an idle pool of `threads` threads over `prefix` holds, estimated: its weights in each thread plus each thread's own. */
export function prefixPoolBytes(prefix: tf.LayersModel | null, threads: number): number {
  return threads * ((prefix?.countParams() ?? 0) * 4 + perThreadBytes);
}

export interface WarmPoolLimits {
  /** idle pools kept; 0 closes every pool when its run ends */
  maxPools: number;
  /** sum of the idle pools' weight bytes (prefix weights × threads) */
  maxBytes: number;
}

interface Idle {
  pool: PrefixPool;
  bytes: number;
}

let limits: WarmPoolLimits = { maxPools: 0, maxBytes: 0 };
/** least recently used first (a Map keeps insertion order) */
const idle = new Map<string, Idle>();

/** Turns keeping pools warm on (or off, with maxPools 0) for this thread; pools beyond the new limits close. */
export async function keepPrefixPoolsWarm(next: WarmPoolLimits): Promise<void> {
  limits = next;
  await trim();
}

export interface PoolLease {
  pool: PrefixPool;
  /** true when the pool was already warm */
  warm: boolean;
  /** ok: the run used it without error, so it may serve the next one; otherwise it is closed */
  release(ok: boolean): Promise<void>;
}

/** Idle pools kept now: while fewer than the limit, a cold pool needs threads of its own (from the reserve). */
export function idlePrefixPools(): number {
  return idle.size;
}

/**
 * The idle pool for `key`, or a new one from `open`. `key` null: never kept (a model whose weights are not
 * known to be the same next time, e.g. a user's backbone URL). A leased pool is nobody else's until released.
 * A new pool that would push the least recently used idle one out at release closes that one first: its booted
 * threads go back to the reserve (thread-reserve.ts), and the new pool starts on them instead of waiting for boots.
 */
export async function leasePrefixPool(key: string | null, bytes: number, open: () => PrefixPool): Promise<PoolLease> {
  const found = key === null ? undefined : idle.get(key);
  if (found) idle.delete(key!);
  else if (key !== null && bytes <= limits.maxBytes) await evict(limits.maxPools - 1);
  const pool = found?.pool ?? open();
  return {
    pool,
    warm: found !== undefined,
    async release(ok) {
      if (!ok || key === null || limits.maxPools <= 0 || bytes > limits.maxBytes) return pool.close();
      const other = idle.get(key); // another run's pool of the same key (concurrent runs): keep the newer
      idle.delete(key);
      idle.set(key, { pool, bytes });
      await Promise.all([other?.pool.close(), trim()]);
    },
  };
}

const trim = () => evict(limits.maxPools);

/** Closes least recently used idle pools until at most `maxPools` remain within the byte bound. */
async function evict(maxPools: number): Promise<void> {
  const closing: Promise<void>[] = [];
  let total = [...idle.values()].reduce((a, p) => a + p.bytes, 0);
  for (const [key, p] of idle) {
    if (idle.size <= Math.max(0, maxPools) && total <= limits.maxBytes) break;
    idle.delete(key);
    total -= p.bytes;
    closing.push(p.pool.close());
  }
  await Promise.all(closing);
}

// predictPerMinute: a fixed one-minute window per tenant counted in Redis (INCRBY + PEXPIRE in one
// MULTI), so every API process shares the same count. Images are counted, not requests: a batch of 64
// is 64 predictions. A refused request gives its count back and names when the window ends.
import type { Redis } from 'ioredis';
import { ErrorCode, GraftError } from '@graft/spec';


export interface PredictRate {
  /** counts n predictions for the tenant, or throws 429 rate_limited with Retry-After */
  take(tenantId: string, n: number, limit: number | null): Promise<void>;
  /** predictions counted in the current window */
  used(tenantId: string): Promise<number>;
}

/** `windowMs` is a minute; tests shorten it to see the window roll over. */
export function predictRate(client: Redis, prefix: string, windowMs = 60_000): PredictRate {
  const keyOf = (tenantId: string, now: number) => `${prefix}:rate:predict:${tenantId}:${Math.floor(now / windowMs)}`;
  return {
    async take(tenantId, n, limit) {
      if (limit === null) return;
      const now = Date.now();
      const key = keyOf(tenantId, now);
      const result = await client.multi().incrby(key, n).pexpire(key, windowMs * 2).exec();
      const count = Number(result?.[0]?.[1]);
      if (count <= limit) return;
      await client.decrby(key, n);
      const retryAfterSeconds = Math.max(1, Math.ceil((windowMs - (now % windowMs)) / 1000));
      throw new GraftError(
        ErrorCode.rateLimited,
        `This tenant may make ${limit} predictions a minute (predictPerMinute) and this request's ${n} would exceed it; retry after ${retryAfterSeconds} s`,
        { quota: 'predictPerMinute', limit, retryAfterSeconds },
      );
    },
    async used(tenantId) {
      return Number((await client.get(keyOf(tenantId, Date.now()))) ?? 0);
    },
  };
}

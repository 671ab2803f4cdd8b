// Per-tenant quotas other than concurrent jobs (admitted at POST /jobs by @graft/db tenants.admitJob):
// predictions per minute (Redis, shared by all API processes) and stored bytes (uploads; checkpoints
// count once stored). Decorates app.quotas for the routes.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Redis } from 'ioredis';
import { tenants } from '@graft/db';
import { ErrorCode, GraftError } from '@graft/spec';
import { predictRate, type PredictRate } from './predict-rate.ts';

export interface Quotas {
  predict: PredictRate;
  /** the tenant's quotas and stored bytes; throws 429 quota_exceeded when `adding` more would pass maxStorageBytes */
  checkStorage(tenantId: string, adding: number): Promise<void>;
  /** bytes the tenant may still store (Infinity without a limit) */
  storageLeft(tenantId: string): Promise<number>;
}

declare module 'fastify' {
  interface FastifyInstance {
    quotas: Quotas;
  }
}

async function quotaPlugin(app: FastifyInstance): Promise<void> {
  // its own connection: a slow queue command must not delay a rate check, and the other way round
  const redis = new Redis(app.config.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', (err) => app.log.debug({ err }, 'rate-limit redis connection error'));
  app.addHook('onClose', async () => {
    redis.disconnect();
  });
  const storageLeft = async (tenantId: string) => {
    const tenant = await app.prisma.tenant.findUniqueOrThrow({ where: { id: tenantId } });
    if (tenant.maxStorageBytes === null) return Infinity;
    return Number(tenant.maxStorageBytes) - (await tenants.storedBytes(app.prisma, tenantId));
  };
  const rate = predictRate(redis, app.config.queuePrefix);
  // Predictions need no Redis: while it is away the rate is not counted (logged), rather than /predict failing.
  const unavailable = (err: unknown) => {
    if (err instanceof GraftError) throw err;
    app.log.warn({ err }, 'predict rate not counted: Redis is not answering');
  };
  app.decorate('quotas', {
    predict: {
      take: (tenantId, n, limit) => rate.take(tenantId, n, limit).catch(unavailable),
      used: (tenantId) => rate.used(tenantId).catch((err) => (unavailable(err), 0)),
    },
    storageLeft,
    async checkStorage(tenantId, adding) {
      const left = await storageLeft(tenantId);
      if (adding > left) {
        throw new GraftError(
          ErrorCode.quotaExceeded,
          `This tenant's storage quota (maxStorageBytes) has ${Math.max(0, left)} bytes left, not enough for ${adding} more; delete datasets or ask the operator for more`,
          { quota: 'maxStorageBytes', retryAfterSeconds: 60 },
        );
      }
    },
  });
}

export default fp(quotaPlugin, { name: 'graft-quotas' });

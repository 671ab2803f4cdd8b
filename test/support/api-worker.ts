// A real worker process serving a test API's queue: same database, queue prefix and storage.
import type { TestApi } from './api.ts';
import { startWorkerProcess, type WorkerProcess } from './service.ts';

/** `env` adds settings (e.g. RECONCILE_INTERVAL_MS) on top of the API's. */
export function startWorkerForApi(api: TestApi, env: Record<string, string> = {}): WorkerProcess {
  return startWorkerProcess({
    DATABASE_URL: api.db.url,
    REDIS_URL: api.config.redisUrl,
    QUEUE_PREFIX: api.config.queuePrefix,
    STORAGE_URL: api.config.storageUrl,
    DATASETS_DIR: api.config.datasetsDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
    ...env,
  });
}

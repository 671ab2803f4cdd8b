// A real worker process serving a test API's queue: same database, queue prefix and storage.
import type { TestApi } from './api.ts';
import { startWorkerProcess, type WorkerProcess } from './service.ts';

export function startWorkerForApi(api: TestApi): WorkerProcess {
  return startWorkerProcess({
    DATABASE_URL: api.db.url,
    QUEUE_PREFIX: api.config.queuePrefix,
    STORAGE_URL: api.config.storageUrl,
    DATASETS_DIR: api.config.datasetsDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
  });
}

// `npm run start:api`: the HTTP API on PORT, wired to Postgres, Redis and storage from the config.
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { ConfigError, loadConfig } from '@graft/config';
import { createPrisma, migrate } from '@graft/db';
import { createJobQueue, reconcileSettings, startReconciler, type Reconciler } from '@graft/queue';
import { openStorage } from '@graft/storage';
import { buildApp } from './app.ts';

let config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`graft api: invalid configuration: ${err.message}`);
  process.exit(1);
}

const logger = pino({ level: config.logLevel, base: { pid: process.pid, role: 'api' } });
// Idempotent and locked, so `npm run start:api` alone works on an empty database too.
await migrate(config.databaseUrl, { logger });
const prisma = createPrisma(config.databaseUrl);
const queue = createJobQueue(config);
// Redis going away is reported by /readyz and retried by ioredis; it must not crash the process.
queue.on('error', (err) => logger.warn({ err }, 'queue connection error'));
const storage = openStorage(config);
const app = await buildApp({ config, prisma, queue, storage, logger });

let reconciler: Reconciler | undefined;
let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  reconciler?.stop();
  // Stop accepting requests and finish the ones in flight, then release connections.
  await app.close();
  // queue.close() never settles while Redis is unreachable: do not let that block the exit.
  await Promise.race([Promise.allSettled([queue.close(), prisma.$disconnect()]), sleep(5000)]);
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

await app.listen({ port: config.port, host: config.host });
// also here, so a deployment whose workers are all down still gets its lost jobs back in the queue
reconciler = startReconciler({ prisma, queue }, reconcileSettings(config), logger);
logger.info({ storage: storage.description, queuePrefix: config.queuePrefix }, 'graft api ready; docs at /docs');

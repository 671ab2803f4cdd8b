// `npm run start:worker`: one worker process. Applies migrations (idempotent, safe beside the API doing
// the same), then processes jobs until SIGTERM/SIGINT.
import pino from 'pino';
import { loadConfig } from '@graft/config';
import { createPrisma, migrate } from '@graft/db';
import { startWorker } from './graft-worker.ts';

const config = loadConfig();
const logger = pino({ level: config.logLevel, base: { pid: process.pid, role: 'worker' } });
await migrate(config.databaseUrl, { logger });
const prisma = createPrisma(config.databaseUrl);
const worker = await startWorker(config, prisma, logger);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  await worker.close();
  await prisma.$disconnect();
  logger.info('worker stopped');
  process.exit(0);
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

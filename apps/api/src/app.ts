// The HTTP API as a Fastify app built from injected dependencies, so tests build one on a throwaway
// database and a unique queue prefix, and main.ts builds the real one from the config.
import Fastify, { type FastifyBaseLogger } from 'fastify';
import type { Config } from '@graft/config';
import type { PrismaClient } from '@graft/db';
import type { Queue } from 'bullmq';
import type { JobData } from '@graft/queue';
import type { Storage } from '@graft/storage';
import errors from './errors.ts';
import openapi from './openapi.ts';
import { createValidatorCompiler, type TypeBoxProvider } from './schemas.ts';
import jobs from './routes/jobs.ts';
import jobEvents from './routes/job-events.ts';
import datasets from './routes/datasets.ts';
import backbones from './routes/backbones.ts';
import health from './routes/health.ts';
import predict from './routes/predict.ts';
import modelDownload from './routes/model-download.ts';
import report from './routes/report.ts';
import datasetSummary from './routes/dataset-summary.ts';
import jobPreview from './routes/job-preview.ts';
import { DatasetSummaries } from './dataset-summaries.ts';
import consolePage from './routes/console.ts';
import auth from './auth/auth-plugin.ts';
import quotas from './quotas/quota-plugin.ts';
import tenants from './routes/tenants.ts';
import sweeps from './routes/sweeps.ts';

export interface AppDeps {
  config: Config;
  prisma: PrismaClient;
  queue: Queue<JobData>;
  storage: Storage;
  logger: FastifyBaseLogger;
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    prisma: PrismaClient;
    queue: Queue<JobData>;
    storage: Storage;
  }
}

export async function buildApp(deps: AppDeps) {
  const app = Fastify({
    loggerInstance: deps.logger,
    // Clients may send their own id (X-Request-Id) to find their request in our logs.
    requestIdHeader: 'x-request-id',
    // JSON bodies are small (a job spec); archives go through multipart with their own limit.
    bodyLimit: 1024 * 1024,
  }).withTypeProvider<TypeBoxProvider>();

  app.decorate('config', deps.config);
  app.decorate('prisma', deps.prisma);
  app.decorate('queue', deps.queue);
  app.decorate('storage', deps.storage);

  // Echoed so a client can quote it; the log lines of the request carry the same id.
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  app.setValidatorCompiler(createValidatorCompiler());
  // Bodies are JSON (or multipart where a route registers it); anything else is 415, not a string body.
  app.removeContentTypeParser('text/plain');
  await app.register(errors);
  // before every route: its hooks document and enforce each route's key and scope
  await app.register(auth, { adminKey: deps.config.adminKey });
  await app.register(quotas);
  await app.register(openapi);

  await app.register(jobs);
  await app.register(jobEvents);
  await app.register(datasets);
  await app.register(backbones);
  await app.register(health);
  await app.register(predict);
  await app.register(modelDownload);
  await app.register(report);
  // the summary route and the job preview read each uploaded archive once between them
  const summaries = new DatasetSummaries({ storage: deps.storage, limits: deps.config.datasetLimits });
  await app.register(datasetSummary, { summaries });
  await app.register(jobPreview, { summaries });
  await app.register(consolePage);
  await app.register(tenants);
  await app.register(sweeps);
  return app;
}

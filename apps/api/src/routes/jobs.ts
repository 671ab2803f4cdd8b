// Jobs: submit, list, read, read metrics, cancel. Postgres is the source of truth; the queue only
// carries the job id to a worker.
import { Type } from '@sinclair/typebox';
import type { Job } from '@graft/db';
import { ErrorBody, ErrorCode, GraftError, JobList, JobSpec, JobStatus, JobView, MetricsView } from '@graft/spec';
import { advanceSweepOfJob, cancelJob, submitJob } from '@graft/queue';
import { listBackbones } from '@graft/engine';
import { listQuery, ref, type RoutePlugin } from '../schemas.ts';
import { checkJobSpec, isUuid } from '../job-spec-checks.ts';
import { toJobView, toMetricsView } from '../job-view.ts';
import { probe } from '../dependency-probe.ts';

export const JobParams = Type.Object({ id: Type.String({ description: 'Job id (uuid)' }) });

const errors = { 400: ref(ErrorBody), 404: ref(ErrorBody) };

const notFound = (id: string) => new GraftError(ErrorCode.notFound, `No job with id '${id}'; GET /jobs lists the jobs`);

/** The tenant's job with this id, or a 404 naming it (also when another tenant has it: never reveal that). */
export async function findJob(app: Parameters<RoutePlugin>[0], id: string, tenantId: string): Promise<Job> {
  const job = isUuid(id) ? await app.prisma.job.findFirst({ where: { id, tenantId } }) : null;
  if (!job) throw notFound(id);
  return job;
}

const jobs: RoutePlugin = async (app) => {
  app.post(
    '/jobs',
    {
      config: { scope: 'train' },
      schema: {
        tags: ['jobs'],
        summary: 'Submit a training job',
        description: 'Validates the spec, stores the job as queued and hands it to a worker. Location names the new job.',
        body: ref(JobSpec),
        response: { 202: ref(JobView), 400: ref(ErrorBody), 413: ref(ErrorBody), 415: ref(ErrorBody), 429: ref(ErrorBody), 503: ref(ErrorBody) },
      },
    },
    async (req, reply) => {
      const spec = req.body;
      await checkJobSpec(spec, { prisma: app.prisma, backbones: listBackbones(), principal: req.principal, storageUrl: app.config.storageUrl });
      // Adding to the queue waits for Redis indefinitely; refuse now rather than hang the request.
      const redis = await probe(() => app.queue.count(), 1500);
      if (redis !== 'ok') throw new GraftError(ErrorCode.notReady, `The job queue (Redis) is not answering (${redis}); nothing was submitted, try again shortly`);
      const job = await submitJob(app, spec, req.principal.tenantId);
      return reply.code(202).header('location', `/jobs/${job.id}`).send(toJobView(job));
    },
  );

  app.get(
    '/jobs',
    {
      config: { scope: 'train' },
      schema: {
        tags: ['jobs'],
        summary: "List the tenant's jobs, newest first",
        querystring: listQuery(JobStatus),
        response: { 200: ref(JobList), 400: ref(ErrorBody) },
      },
    },
    async (req) => {
      const { limit, offset, status } = req.query;
      const where = { tenantId: req.principal.tenantId, ...(status ? { status } : {}) };
      const [items, total] = await app.prisma.$transaction([
        app.prisma.job.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], skip: offset, take: limit }),
        app.prisma.job.count({ where }),
      ]);
      return { items: items.map(toJobView), total, limit, offset };
    },
  );

  app.get(
    '/jobs/:id',
    { config: { scope: 'train' }, schema: { tags: ['jobs'], summary: 'Read a job', params: JobParams, response: { 200: ref(JobView), ...errors } } },
    async (req) => toJobView(await findJob(app, req.params.id, req.principal.tenantId)),
  );

  app.get(
    '/jobs/:id/metrics',
    {
      config: { scope: 'train' },
      schema: {
        tags: ['jobs'],
        summary: 'Per-epoch metrics and the final evaluation',
        description: 'Epochs appear while the job runs; evaluation is null until training ends.',
        params: JobParams,
        response: { 200: ref(MetricsView), ...errors },
      },
    },
    async (req) => {
      const job = await findJob(app, req.params.id, req.principal.tenantId);
      const [epochs, evaluation] = await Promise.all([
        app.prisma.epochMetric.findMany({ where: { jobId: job.id }, orderBy: { epoch: 'asc' } }),
        app.prisma.evaluation.findUnique({ where: { jobId: job.id } }),
      ]);
      return toMetricsView(job, epochs, evaluation);
    },
  );

  app.delete(
    '/jobs/:id',
    {
      config: { scope: 'train' },
      schema: {
        tags: ['jobs'],
        summary: 'Cancel a job',
        description:
          'A queued job is cancelled at once (200). A running job is cancelled by its worker at the next batch (202; watch ' +
          'GET /jobs/{id}/events). A job that already ended gives 409.',
        params: JobParams,
        response: { 200: ref(JobView), 202: ref(JobView), 409: ref(ErrorBody), ...errors },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      await findJob(app, id, req.principal.tenantId);
      const result = await cancelJob(app, id);
      // a sweep's trial cancelled on its own frees its place in the sweep
      if (result.outcome === 'cancelled') await advanceSweepOfJob(app, id);
      switch (result.outcome) {
        case 'not_found':
          throw notFound(id);
        case 'terminal':
          throw new GraftError(ErrorCode.conflict, `Job ${id} already ended (${result.job.status}); there is nothing to cancel`);
        case 'cancelled':
          return reply.code(200).send(toJobView(result.job));
        case 'cancelling':
          return reply.code(202).send(toJobView(result.job));
      }
    },
  );
};

export default jobs;

// Sweeps: submit, list, read, cancel, report. A sweep is a Postgres row plus ordinary jobs (its trials),
// moved along by @graft/queue's sweep scheduler; another tenant's sweep reads as not found.
import { Type } from '@sinclair/typebox';
import { sweeps, type Sweep } from '@graft/db';
import { ErrorBody, ErrorCode, GraftError, SweepList, SweepSpec, SweepStatus, SweepView } from '@graft/spec';
import { advanceSweep, cancelSweep } from '@graft/queue';
import { listBackbones } from '@graft/engine';
import { listQuery, ref, type RoutePlugin } from '../schemas.ts';
import { isUuid } from '../job-spec-checks.ts';
import { checkSweepSpec } from '../sweep-spec-checks.ts';
import { toSweepView } from '../sweep-view.ts';
import { probe } from '../dependency-probe.ts';
import { renderSweepReportPage } from '../report/sweep-report-page.ts';

const SweepParams = Type.Object({ id: Type.String({ description: 'Sweep id (uuid)' }) });
const errors = { 400: ref(ErrorBody), 404: ref(ErrorBody) };

const notFound = (id: string) => new GraftError(ErrorCode.notFound, `No sweep with id '${id}'; GET /sweeps lists the sweeps`);

const sweepsRoutes: RoutePlugin = async (app) => {
  const findSweep = async (id: string, tenantId: string): Promise<Sweep> => {
    const sweep = isUuid(id) ? await app.prisma.sweep.findFirst({ where: { id, tenantId } }) : null;
    if (!sweep) throw notFound(id);
    return sweep;
  };
  const view = async (sweep: Sweep) => toSweepView(sweep, await sweeps.trialsOf(app.prisma, sweep.id));

  app.post(
    '/sweeps',
    {
      config: { scope: 'train' },
      schema: {
        tags: ['sweeps'],
        summary: 'Start a hyper-parameter sweep',
        description:
          'Validates the spec (every trial it samples must be a job POST /jobs accepts), stores the sweep and queues its first parallelTrials trials. ' +
          'Trials are ordinary jobs and count against the tenant\'s maxConcurrentJobs: while it is full the sweep waits. Location names the new sweep.',
        body: ref(SweepSpec),
        response: { 202: ref(SweepView), 400: ref(ErrorBody), 413: ref(ErrorBody), 415: ref(ErrorBody), 503: ref(ErrorBody) },
      },
    },
    async (req, reply) => {
      const spec = req.body;
      await checkSweepSpec(spec, { prisma: app.prisma, backbones: listBackbones(), principal: req.principal, storageUrl: app.config.storageUrl });
      const redis = await probe(() => app.queue.count(), 1500);
      if (redis !== 'ok') throw new GraftError(ErrorCode.notReady, `The job queue (Redis) is not answering (${redis}); nothing was submitted, try again shortly`);
      const sweep = await sweeps.createSweepRow(app.prisma, req.principal.tenantId, spec);
      await advanceSweep(app, sweep.id);
      const current = await app.prisma.sweep.findUniqueOrThrow({ where: { id: sweep.id } });
      return reply.code(202).header('location', `/sweeps/${sweep.id}`).send(await view(current));
    },
  );

  app.get(
    '/sweeps',
    {
      config: { scope: 'train' },
      schema: {
        tags: ['sweeps'],
        summary: "List the tenant's sweeps, newest first",
        querystring: listQuery(SweepStatus),
        response: { 200: ref(SweepList), 400: ref(ErrorBody) },
      },
    },
    async (req) => {
      const { limit, offset, status } = req.query;
      const where = { tenantId: req.principal.tenantId, ...(status ? { status } : {}) };
      const [items, total] = await app.prisma.$transaction([
        app.prisma.sweep.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], skip: offset, take: limit }),
        app.prisma.sweep.count({ where }),
      ]);
      return { items: await Promise.all(items.map(view)), total, limit, offset };
    },
  );

  app.get(
    '/sweeps/:id',
    {
      config: { scope: 'train' },
      schema: { tags: ['sweeps'], summary: 'Read a sweep: its trials (leaderboard first) and best trial', params: SweepParams, response: { 200: ref(SweepView), ...errors } },
    },
    async (req) => view(await findSweep(req.params.id, req.principal.tenantId)),
  );

  app.delete(
    '/sweeps/:id',
    {
      config: { scope: 'train' },
      schema: {
        tags: ['sweeps'],
        summary: 'Cancel a sweep',
        description: 'The sweep ends cancelled and every unfinished trial is cancelled (queued ones at once, running ones at their next batch). A sweep that already ended gives 409.',
        params: SweepParams,
        response: { 200: ref(SweepView), 409: ref(ErrorBody), ...errors },
      },
    },
    async (req) => {
      const sweep = await findSweep(req.params.id, req.principal.tenantId);
      const outcome = await cancelSweep(app, sweep.id);
      if (outcome === 'not_found') throw notFound(sweep.id);
      if (outcome === 'terminal') throw new GraftError(ErrorCode.conflict, `Sweep ${sweep.id} already ended (${sweep.status}); there is nothing to cancel`);
      return view(await findSweep(sweep.id, req.principal.tenantId));
    },
  );

  app.get(
    '/sweeps/:id/report',
    {
      config: { scope: 'train' },
      schema: {
        tags: ['sweeps'],
        summary: 'A human-readable report of a sweep',
        description: 'HTML: the leaderboard and every trial\'s validation curve on one chart. Works while the sweep runs.',
        params: SweepParams,
        response: {
          200: { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } },
          404: ref(ErrorBody),
        },
      },
    },
    async (req, reply) => {
      const sweep = await findSweep(req.params.id, req.principal.tenantId);
      const trials = await sweeps.trialsOf(app.prisma, sweep.id);
      const page = renderSweepReportPage(toSweepView(sweep, trials), trials.map((t) => ({ index: t.trialIndex ?? 0, epochs: t.epochs })));
      return reply.type('text/html; charset=utf-8').send(page);
    },
  );
};

export default sweepsRoutes;

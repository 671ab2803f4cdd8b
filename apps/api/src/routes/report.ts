// GET /jobs/:id/report: the job's training run as an HTML page (curves, confusion matrix, per-class
// table) rendered here from the same rows GET /jobs/:id/metrics returns.
import { ErrorBody } from '@graft/spec';
import { ref, type RoutePlugin } from '../schemas.ts';
import { toJobView, toMetricsView } from '../job-view.ts';
import { renderReportPage } from '../report/report-page.ts';
import { JobParams, findJob } from './jobs.ts';

const report: RoutePlugin = async (app) => {
  app.get(
    '/jobs/:id/report',
    {
      config: { scope: 'train' },
      schema: {
        tags: ['jobs'],
        summary: 'A human-readable report of a job',
        description: 'HTML: loss and accuracy curves per epoch, the confusion matrix as a heat map and the per-class table. Works while the job runs.',
        params: JobParams,
        response: {
          200: { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } },
          404: ref(ErrorBody),
        },
      },
    },
    async (req, reply) => {
      const job = await findJob(app, req.params.id, req.principal.tenantId);
      const [epochs, evaluation] = await Promise.all([
        app.prisma.epochMetric.findMany({ where: { jobId: job.id }, orderBy: { epoch: 'asc' } }),
        app.prisma.evaluation.findUnique({ where: { jobId: job.id } }),
      ]);
      return reply.type('text/html; charset=utf-8').send(renderReportPage(toJobView(job), toMetricsView(job, epochs, evaluation)));
    },
  );
};

export default report;

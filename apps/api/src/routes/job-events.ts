// GET /jobs/:id/events: server-sent events of a job's state, progress and epochs until it ends.
// The stream follows Postgres (the source of truth, written by the worker) by polling it, so it works
// the same whichever worker runs the job and however many API instances serve clients.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServerResponse } from 'node:http';
import { Type } from '@sinclair/typebox';
import { ErrorBody, terminalStatuses } from '@graft/spec';
import { ref, type RoutePlugin } from '../schemas.ts';
import { findJob, JobParams } from './jobs.ts';
import { toEpochMetrics, toJobView } from '../job-view.ts';

const pollMs = 300;
const heartbeatMs = 15_000;

function send(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

const jobEvents: RoutePlugin = async (app) => {
  const open = new Set<AbortController>();
  // Open streams would keep the server from closing.
  app.addHook('preClose', async () => {
    for (const c of open) c.abort();
  });

  app.get(
    '/jobs/:id/events',
    {
      config: { scope: 'train' },
      schema: {
        tags: ['jobs'],
        summary: 'Follow a job (server-sent events)',
        description:
          'A `job` event (data: JobView) whenever status, progress or stage changes and an `epoch` event (data: EpochMetrics) ' +
          'for each finished epoch. The stream ends after the job reaches succeeded, failed or cancelled.',
        params: JobParams,
        response: {
          200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: Type.String() } } },
          404: ref(ErrorBody),
        },
      },
    },
    async (req, reply) => {
      const { id } = await findJob(app, req.params.id, req.principal.tenantId);
      const stop = new AbortController();
      open.add(stop);
      req.raw.on('close', () => stop.abort());

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write('retry: 2000\n\n');

      let lastView = '';
      let lastEpoch = 0;
      let lastWrite = Date.now();
      try {
        while (!stop.signal.aborted) {
          const job = await app.prisma.job.findUniqueOrThrow({ where: { id } });
          // Epochs first, so the final `job` event comes after every epoch of the run.
          const epochs = await app.prisma.epochMetric.findMany({ where: { jobId: id, epoch: { gt: lastEpoch } }, orderBy: { epoch: 'asc' } });
          for (const e of epochs) send(res, 'epoch', toEpochMetrics(e));
          lastEpoch = epochs.at(-1)?.epoch ?? lastEpoch;
          const view = toJobView(job);
          const json = JSON.stringify(view);
          if (json !== lastView || epochs.length) lastWrite = Date.now();
          if (json !== lastView) send(res, 'job', view);
          lastView = json;
          if (terminalStatuses.includes(job.status)) break;
          if (Date.now() - lastWrite > heartbeatMs) {
            res.write(': keep-alive\n\n'); // proxies close idle connections
            lastWrite = Date.now();
          }
          await sleep(pollMs, undefined, { signal: stop.signal }).catch(() => undefined);
        }
      } catch (err) {
        req.log.error({ err, jobId: id }, 'job event stream failed');
      } finally {
        open.delete(stop);
        res.end();
      }
    },
  );
};

export default jobEvents;

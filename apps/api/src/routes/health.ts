// Liveness (/healthz: the process answers) and readiness (/readyz: Postgres and Redis answer), for
// orchestrators: a not-ready instance is taken out of rotation, not restarted.
import { Type } from '@sinclair/typebox';
import { ErrorBody, ErrorCode } from '@graft/spec';
import { ref, type RoutePlugin } from '../schemas.ts';
import { probe } from '../dependency-probe.ts';

const Checks = Type.Object({ postgres: Type.String(), redis: Type.String() });

const health: RoutePlugin = async (app) => {
  app.get(
    '/healthz',
    { config: { public: true }, schema: { tags: ['health'], summary: 'Liveness', response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { public: true },
      schema: {
        tags: ['health'],
        summary: 'Readiness: Postgres and Redis answer',
        response: { 200: Type.Object({ status: Type.Literal('ready'), checks: Checks }), 503: ref(ErrorBody) },
      },
    },
    async (req, reply) => {
      const [postgres, redis] = await Promise.all([probe(() => app.prisma.$queryRaw`SELECT 1`), probe(() => app.queue.count())]);
      const checks = { postgres, redis };
      if (postgres === 'ok' && redis === 'ok') return { status: 'ready' as const, checks };
      req.log.warn({ checks }, 'not ready');
      const down = Object.entries(checks).filter(([, v]) => v !== 'ok').map(([k, v]) => `${k}: ${v}`);
      return reply.code(503).send({ error: { code: ErrorCode.notReady, message: `Not ready: ${down.join('; ')}`, details: checks } });
    },
  );
};

export default health;

// The OpenAPI document is generated from the route schemas (themselves packages/spec's TypeBox
// schemas): /openapi.json and the Swagger UI at /docs can never drift from what the API validates.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { sharedSchemas } from './schemas.ts';

async function openapiPlugin(app: FastifyInstance): Promise<void> {
  for (const s of sharedSchemas) app.addSchema(s);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Graft',
        version: '1.0.0',
        description: 'Open transfer-learning training service: submit a dataset, get a model adapted from a pretrained CNN backbone.',
      },
      tags: [
        { name: 'jobs', description: 'Training jobs' },
        { name: 'datasets', description: 'Uploaded dataset archives' },
        { name: 'predict', description: 'Predictions with a trained model' },
        { name: 'backbones', description: 'Pretrained backbones' },
        { name: 'health', description: 'Liveness and readiness' },
      ],
    },
    // Registered schemas become components named by their $id (JobSpec, JobView …), not def-0, def-1 …
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

export default fp(openapiPlugin, { name: 'graft-openapi' });

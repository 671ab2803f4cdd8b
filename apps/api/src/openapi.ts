// The OpenAPI document is generated from the route schemas (themselves packages/spec's TypeBox
// schemas): /openapi.json and the Swagger UI at /docs can never drift from what the API validates.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { sharedSchemas } from './schemas.ts';
import { bearerScheme, publicRoutes } from './auth/auth-plugin.ts';

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
        { name: 'sweeps', description: 'Hyper-parameter sweeps: many trial jobs, early stopping, the best model' },
        { name: 'datasets', description: 'Uploaded dataset archives' },
        { name: 'predict', description: 'Predictions with a trained model' },
        { name: 'backbones', description: 'Pretrained backbones' },
        { name: 'health', description: 'Liveness and readiness' },
        { name: 'tenants', description: 'Tenants, API keys and the caller (GET /me)' },
      ],
      components: {
        securitySchemes: {
          [bearerScheme]: { type: 'http', scheme: 'bearer', description: 'An API key (graft_…) from POST /tenants/{id}/keys, or the operator’s GRAFT_ADMIN_KEY' },
        },
      },
      security: [{ [bearerScheme]: [] }],
    },
    // Registered schemas become components named by their $id (JobSpec, JobView …), not def-0, def-1 …
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  // The docs are public; Swagger UI's Authorize button takes a key for the calls made from it.
  await app.register(async (docs) => {
    publicRoutes(docs);
    await docs.register(swaggerUi, { routePrefix: '/docs', uiConfig: { persistAuthorization: true } });
    docs.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  });
}

export default fp(openapiPlugin, { name: 'graft-openapi' });

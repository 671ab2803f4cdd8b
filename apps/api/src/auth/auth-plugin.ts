// Authentication and scopes as a Fastify plugin. Every route needs `Authorization: Bearer <key>` unless
// it is declared public; a route declares what it needs in its config:
//   app.get('/x', { config: { scope: 'train' } }, …)    // a key with the train scope
//   app.get('/y', { config: { scope: 'any' } }, …)      // any valid key
//   app.get('/z', { config: { public: true } }, …)      // no key (health, docs, static files)
// A route that declares neither needs an admin key (fail closed). A plugin whose routes are all public
// (static files) calls `publicRoutes(app)` once at its top. The handler reads `request.principal`.
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { ErrorBody, ErrorCode, GraftError } from '@graft/spec';
import { ref } from '../schemas.ts';
import type { Scope } from '@graft/db';
import { keyVerifier, type Principal } from './principal.ts';

export type RouteScope = Scope | 'any';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** no key needed */
    public?: boolean;
    /** the scope a key must hold; default 'admin' */
    scope?: RouteScope;
  }
  interface FastifyRequest {
    /** the caller; set on every non-public route before its handler runs */
    principal: Principal;
  }
}

export const bearerScheme = 'bearerAuth';

/** Marks every route registered later in this plugin context (and its children) as public. */
export function publicRoutes(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, public: true };
  });
}

function unauthorized(message: string): GraftError {
  return new GraftError(ErrorCode.unauthorized, message);
}

function bearerOf(req: FastifyRequest): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : '';
}

/** Documents the route's security in OpenAPI: the bearer scheme and the scope, or none when public. */
function documentSecurity(route: RouteOptions): void {
  if (!route.schema || route.schema.hide) return;
  const schema = route.schema as Record<string, unknown> & { response?: Record<string, unknown>; description?: string };
  // the HEAD route Fastify adds for a GET shares its schema: document it once
  if (schema.security) return;
  if (route.config?.public) {
    schema.security = [];
    return;
  }
  const scope = route.config?.scope ?? 'admin';
  schema.security = [{ [bearerScheme]: [] }];
  const needs = scope === 'any' ? 'Needs any valid API key.' : `Needs an API key with the \`${scope}\` scope.`;
  schema.description = schema.description ? `${schema.description}\n\n${needs}` : needs;
  schema.response = { ...schema.response, 401: ref(ErrorBody), 403: ref(ErrorBody) };
}

async function authPlugin(app: FastifyInstance, opts: { adminKey?: string }): Promise<void> {
  const verifier = keyVerifier(app.prisma, opts.adminKey);
  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRoute', documentSecurity);
  app.addHook('onRequest', async (req) => {
    const config = req.routeOptions.config;
    // unknown routes answer 404 whoever asks
    if (config?.public || req.is404) return;
    const key = bearerOf(req);
    if (key === null) throw unauthorized('This route needs an API key: send Authorization: Bearer graft_…');
    const principal = key ? await verifier.verify(key) : null;
    if (!principal) throw unauthorized('The API key is not valid (mistyped, or revoked); send Authorization: Bearer graft_… with a current key');
    const scope = config?.scope ?? 'admin';
    if (scope !== 'any' && !principal.scopes.includes(scope)) {
      throw new GraftError(ErrorCode.forbidden, `This key lacks the '${scope}' scope this route needs (it has: ${principal.scopes.join(', ') || 'none'}); use a key created with it`);
    }
    req.principal = principal;
  });
}

/** Registered at the root, before the routes, so its hooks see every route. */
export default fp(authPlugin, { name: 'graft-auth', dependencies: ['graft-errors'] });

// Tenants and their API keys (admin scope), and GET /me (any key): who the caller is and what of its
// quotas it uses. A key is shown once, in the 201 of POST /tenants/{id}/keys; only its hash is kept.
import { Type } from '@sinclair/typebox';
import { tenants, type Scope, type Tenant } from '@graft/db';
import { ErrorBody, ErrorCode, GraftError } from '@graft/spec';
import { ref, type RoutePlugin } from '../schemas.ts';
import { KeyView, MeView, QuotasInput, ScopeSchema, TenantView } from '../tenant-schemas.ts';
import { isUuid } from '../job-spec-checks.ts';
import { generateKey } from '../auth/keys.ts';


const toTenantView = (t: Tenant) => ({ id: t.id, name: t.name, quotas: tenants.quotasOf(t), createdAt: t.createdAt.toISOString() });
const Id = Type.Object({ id: Type.String() });

const tenantRoutes: RoutePlugin = async (app) => {
  app.post(
    '/tenants',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['tenants'],
        summary: 'Create a tenant',
        description: 'Quotas left out take the server defaults (TENANT_MAX_CONCURRENT_JOBS, TENANT_MAX_STORAGE_BYTES, TENANT_PREDICT_PER_MINUTE).',
        body: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 200 }), quotas: Type.Optional(QuotasInput) },
          { additionalProperties: false },
        ),
        response: { 201: ref(TenantView), 400: ref(ErrorBody) },
      },
    },
    async (req, reply) => {
      const tenant = await tenants.createTenant(app.prisma, req.body.name, { ...app.config.tenantDefaults, ...req.body.quotas });
      return reply.code(201).header('location', `/tenants/${tenant.id}`).send(toTenantView(tenant));
    },
  );

  app.post(
    '/tenants/:id/keys',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['tenants'],
        summary: 'Create an API key for a tenant',
        description: 'The key is in this response only; store it now.',
        params: Id,
        body: Type.Object(
          { scopes: Type.Array(ScopeSchema, { minItems: 1, uniqueItems: true }), name: Type.Optional(Type.String({ maxLength: 200 })) },
          { additionalProperties: false },
        ),
        response: { 201: ref(KeyView), 400: ref(ErrorBody), 404: ref(ErrorBody) },
      },
    },
    async (req, reply) => {
      const tenantId = req.params.id;
      const tenant = isUuid(tenantId) ? await app.prisma.tenant.findUnique({ where: { id: tenantId } }) : null;
      if (!tenant) throw new GraftError(ErrorCode.notFound, `No tenant with id '${tenantId}'; create it with POST /tenants`);
      const { key, lookup, hash } = generateKey();
      const scopes = req.body.scopes as Scope[];
      const row = await tenants.createKeyRow(app.prisma, { tenantId, name: req.body.name, lookup, hash, scopes });
      return reply.code(201).send({ id: row.id, key, scopes, tenantId, name: row.name });
    },
  );

  app.delete(
    '/keys/:id',
    {
      config: { scope: 'admin' },
      schema: { tags: ['tenants'], summary: 'Revoke an API key (it fails at once)', params: Id, response: { 204: Type.Null(), 404: ref(ErrorBody) } },
    },
    async (req, reply) => {
      const revoked = isUuid(req.params.id) && (await tenants.revokeKey(app.prisma, req.params.id));
      if (!revoked) throw new GraftError(ErrorCode.notFound, `No active key with id '${req.params.id}'`);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/me',
    {
      config: { scope: 'any' },
      schema: { tags: ['tenants'], summary: 'The caller: its tenant, scopes and quota use', response: { 200: ref(MeView) } },
    },
    async (req) => {
      const { tenantId, scopes, isAdmin } = req.principal;
      const [tenant, concurrentJobs, storageBytes, predictionsThisMinute] = await Promise.all([
        app.prisma.tenant.findUniqueOrThrow({ where: { id: tenantId } }),
        tenants.activeJobCount(app.prisma, tenantId),
        tenants.storedBytes(app.prisma, tenantId),
        app.quotas.predict.used(tenantId),
      ]);
      return { tenant: toTenantView(tenant), scopes, isAdmin, usage: { concurrentJobs, storageBytes, predictionsThisMinute } };
    },
  );
};

export default tenantRoutes;

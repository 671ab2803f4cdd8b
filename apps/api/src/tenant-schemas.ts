// The shapes of tenants, keys and GET /me (routes/tenants.ts); registered as OpenAPI components.
import { Type } from '@sinclair/typebox';
import { scopes as allScopes } from '@graft/db';

const nullableInt = (description: string) => Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], { description: `${description}; null = unlimited` });

const quotaFields = {
    maxConcurrentJobs: nullableInt('queued + running jobs at once'),
    maxStorageBytes: nullableInt('bytes of uploaded archives and checkpoints'),
    predictPerMinute: nullableInt('images predicted per minute'),
};
export const QuotasSchema = Type.Object(quotaFields, { $id: 'Quotas' });
/** POST /tenants: any quota left out takes the server default. */
export const QuotasInput = Type.Partial(Type.Object(quotaFields, { additionalProperties: false }));

export const TenantView = Type.Object({ id: Type.String(), name: Type.String(), quotas: QuotasSchema, createdAt: Type.String({ format: 'date-time' }) }, { $id: 'TenantView' });
export const ScopeSchema = Type.Union(allScopes.map((s) => Type.Literal(s)), { description: 'train: datasets and jobs; predict: POST /predict and GET /jobs/{id}/model; admin: tenants and keys' });
export const KeyView = Type.Object(
  {
    id: Type.String({ description: 'Use with DELETE /keys/{id}' }),
    key: Type.String({ description: 'The key, shown only now: send it as Authorization: Bearer <key>' }),
    scopes: Type.Array(ScopeSchema),
    tenantId: Type.String(),
    name: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'KeyView' },
);
export const MeView = Type.Object(
  {
    tenant: TenantView,
    scopes: Type.Array(ScopeSchema),
    isAdmin: Type.Boolean(),
    usage: Type.Object({ concurrentJobs: Type.Integer(), storageBytes: Type.Integer(), predictionsThisMinute: Type.Integer() }),
  },
  { $id: 'MeView' },
);
export const tenantSchemas = [QuotasSchema, TenantView, KeyView, MeView];

// The HTTP schemas come from packages/spec only. Every TypeBox schema with an $id is registered once,
// flat, and referenced by $ref: Ajv refuses an $id that appears twice inside one schema (JobSpec holds
// DatasetRef three times), and @fastify/swagger turns registered schemas into named OpenAPI components.
import type { FastifyPluginAsync, FastifySchemaCompiler, FastifyTypeProvider, RawServerDefault } from 'fastify';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { ErrorBody, JobList, JobPreview, JobSpec, JobView, MetricsView, PixelPreprocessing, SweepList, SweepSpec, SweepView } from '@graft/spec';
import { tenantSchemas } from './tenant-schemas.ts';

/** Types route handlers from the TypeBox schemas of packages/spec (@sinclair/typebox 0.34). */
export interface TypeBoxProvider extends FastifyTypeProvider {
  validator: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
  serializer: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
}

type Json = Record<string, unknown>;

/** Replaces every nested $id'd subschema with { $ref: id } and returns each $id'd schema once. */
function hoist(roots: TSchema[]): Json[] {
  const byId = new Map<string, Json>();
  const visit = (node: unknown, isRoot: boolean): unknown => {
    if (Array.isArray(node)) return node.map((n) => visit(n, false));
    if (node === null || typeof node !== 'object') return node;
    const { $id } = node as { $id?: unknown };
    if (typeof $id === 'string' && !isRoot) {
      if (!byId.has($id)) byId.set($id, visit(node, true) as Json);
      return { $ref: $id };
    }
    // Object.entries drops TypeBox's symbol keys, which neither Ajv nor OpenAPI should see.
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, visit(v, false)]));
  };
  for (const root of roots) byId.set(root.$id as string, visit(root, true) as Json);
  return [...byId.values()];
}

// Shapes only the HTTP API has (the job contract itself lives in packages/spec).
export const DatasetView = Type.Object(
  {
    id: Type.String({ description: 'Use as dataset: { id } (or source / validation) in POST /jobs.' }),
    filename: Type.String(),
    sizeBytes: Type.Integer(),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'DatasetView' },
);

export const BackboneView = Type.Object(
  {
    id: Type.String({ description: 'Use as backbone in POST /jobs.' }),
    name: Type.String(),
    nativeImageSize: Type.Integer(),
    imageSizes: Type.Object({ min: Type.Integer(), max: Type.Integer(), multipleOf: Type.Integer() }),
    pixelRange: Type.Array(Type.Number(), { minItems: 2, maxItems: 2, description: 'Range of the input values the decoder produces.' }),
    preprocessing: Type.Optional(PixelPreprocessing),
    blocks: Type.Integer({ description: 'Blocks that hyperparameters.trainableBlocks counts from the end.' }),
    featureDim: Type.Integer(),
    source: Type.String({ description: 'Where the pretrained weights come from.' }),
    available: Type.Boolean({ description: 'Whether a job can use it on this deployment.' }),
    unavailableReason: Type.Optional(Type.String({ description: 'Why not, and what the operator must configure.' })),
  },
  { $id: 'BackboneView' },
);

export const sharedSchemas = hoist([JobSpec, JobView, JobPreview, JobList, MetricsView, ErrorBody, DatasetView, BackboneView, SweepSpec, SweepView, SweepList, ...tenantSchemas]);

/** A reference to a registered schema that still carries its static type for the type provider. */
export function ref<T extends TSchema>(schema: T) {
  if (!schema.$id) throw new Error('only $id schemas are registered');
  return Type.Unsafe<Static<T>>(Type.Ref(schema.$id));
}

/** The query of a list route: a page (newest first) and an optional status filter. */
export function listQuery<T extends TSchema>(status: T) {
  return Type.Object(
    {
      limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
      offset: Type.Integer({ minimum: 0, default: 0 }),
      status: Type.Optional(ref(status)),
    },
    { additionalProperties: false },
  );
}

/**
 * Bodies are validated strictly (no type coercion: "5" is not an integer, extra fields are refused),
 * while query strings and path params are text by nature and are coerced.
 */
export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const make = (coerceTypes: false | 'array') => {
    const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
    for (const s of sharedSchemas) ajv.addSchema(s);
    return ajv;
  };
  const strict = make(false);
  const coercing = make('array');
  return ({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema as object);
}

/** A resource plugin under routes/, typed by the schemas it declares (and the options app.ts hands it). */
export type RoutePlugin<Options extends Record<string, unknown> = Record<never, never>> = FastifyPluginAsync<Options, RawServerDefault, TypeBoxProvider>;

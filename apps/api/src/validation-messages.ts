// How a schema failure (Ajv's error list) becomes one message that names the field and says what it
// must be: "hyperparameters.epochs must be >= 1", "dataset must have one of: url, id".
import type { FastifySchemaValidationError } from 'fastify/types/schema.js';

export interface FieldError {
  field: string;
  message: string;
}

interface Located extends FieldError {
  e: FastifySchemaValidationError;
  /** the value's own path (without the offending property) */
  path: string;
}

type Params = { additionalProperty?: string; missingProperty?: string; type?: string; allowedValue?: unknown };

const dotted = (instancePath: string, part: string | undefined) => instancePath.split('/').filter(Boolean).join('.') || part || 'body';

/** "an integer", "\"all\"": one acceptable form, for "must be X or Y". */
function alternative(e: FastifySchemaValidationError): string | undefined {
  const p = e.params as Params;
  if (e.keyword === 'const') return JSON.stringify(p.allowedValue);
  if (e.keyword === 'type' && p.type) return `${/^[aeiou]/.test(p.type) ? 'an' : 'a'} ${p.type}`;
  return undefined;
}

function locate(e: FastifySchemaValidationError, part: string | undefined): Located {
  const p = e.params as Params;
  const path = dotted(e.instancePath, part);
  const base = e.instancePath ? path : '';
  const extra = p.additionalProperty ?? p.missingProperty;
  const field = extra === undefined ? path : base ? `${base}.${extra}` : extra;
  const message =
    p.additionalProperty !== undefined
      ? 'is not a known field'
      : p.missingProperty !== undefined
        ? 'is required'
        : e.keyword === 'type' || e.keyword === 'const'
          ? `must be ${alternative(e)}`
          : (e.message ?? 'is invalid');
  return { field, message, e, path };
}

const list = (xs: string[]) => (xs.length > 2 ? `one of: ${xs.join(', ')}` : xs.join(' or '));

/**
 * Ajv reports every branch of a union (DatasetRef is {url} | {id}); the most specific failure (the
 * longest field path) is what the user got wrong, and a union's alternatives are listed together.
 */
export function describeValidation(errors: FastifySchemaValidationError[], part?: string): FieldError & { errors: FieldError[] } {
  const branches = errors.filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf');
  const all = (branches.length ? branches : errors).map((e) => locate(e, part));
  const depth = (f: string) => f.split('.').length;
  const best = all.reduce((a, b) => (depth(b.field) > depth(a.field) ? b : a));
  const summary = (field: string, message: string) => ({ field, message, errors: all.map((x) => ({ field: x.field, message: x.message })) });

  // {} for {url} | {id}: each branch misses a different property.
  const missing = [...new Set(all.filter((x) => x.e.keyword === 'required' && x.path === best.path && x.e.instancePath === best.e.instancePath).map((x) => (x.e.params as Params).missingProperty!))];
  if (best.e.keyword === 'required' && missing.length > 1) return summary(best.path, `${best.path} must have one of: ${missing.join(', ')}`);

  // 'some' for integer | "all", 5 for string | object, "transfer" for a union of method names.
  const alternatives = all.filter((x) => x.field === best.field).map((x) => alternative(x.e));
  if (alternatives.length > 1 && alternatives.every((a) => a !== undefined)) {
    return summary(best.field, `${best.field} must be ${list([...new Set(alternatives as string[])])}`);
  }
  return summary(best.field, `${best.field} ${best.message}`);
}

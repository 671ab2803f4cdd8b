// One error body everywhere ({ error: { code, message, details? } }, ErrorBody in packages/spec): user
// errors get a stable code and a message saying what to fix; anything unexpected is a 500 internal_error
// whose details stay in the log (found by request id), never in the response.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ErrorCode, GraftError, type ErrorBody } from '@graft/spec';
import { describeValidation } from './validation-messages.ts';

const statusOf: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.validation]: 400,
  [ErrorCode.invalidJson]: 400,
  [ErrorCode.unknownBackbone]: 400,
  [ErrorCode.unauthorized]: 401,
  [ErrorCode.forbidden]: 403,
  [ErrorCode.notFound]: 404,
  [ErrorCode.conflict]: 409,
  [ErrorCode.payloadTooLarge]: 413,
  [ErrorCode.unsupportedMediaType]: 415,
  [ErrorCode.notAnArchive]: 415,
  [ErrorCode.quotaExceeded]: 429,
  [ErrorCode.rateLimited]: 429,
  [ErrorCode.notReady]: 503,
  [ErrorCode.internal]: 500,
};

function body(code: ErrorCode, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** Translates Fastify's own errors (parsing, limits, validation) into our codes. */
function translate(err: FastifyError): { status: number; body: ErrorBody } | null {
  if (err.validation) {
    const { field, message, errors } = describeValidation(err.validation, err.validationContext);
    return { status: 400, body: body(ErrorCode.validation, message, { field, errors }) };
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, body: body(ErrorCode.invalidJson, `The request body is not valid JSON: ${err.message}`) };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
      return { status: 413, body: body(ErrorCode.payloadTooLarge, `${err.message}; send a smaller request`) };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, body: body(ErrorCode.unsupportedMediaType, `${err.message}; send application/json (or multipart/form-data to POST /datasets)`) };
  }
  // The JSON parser can also surface a bare SyntaxError with a 400.
  if (err instanceof SyntaxError && err.statusCode === 400) {
    return { status: 400, body: body(ErrorCode.invalidJson, `The request body is not valid JSON: ${err.message}`) };
  }
  if (err.statusCode === 404) return { status: 404, body: body(ErrorCode.notFound, err.message) };
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return { status: err.statusCode, body: body(ErrorCode.validation, err.message) };
  }
  return null;
}

async function errorsPlugin(app: FastifyInstance): Promise<void> {
  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof GraftError) {
      const status = statusOf[err.code] ?? 400;
      if (status >= 500) req.log.error({ err }, 'request failed');
      if (status === 401) reply.header('www-authenticate', 'Bearer');
      const retryAfter = (err.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
      if (status === 429 && retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
      return reply.code(status).send(body(err.code, err.message, err.details));
    }
    const known = translate(err);
    if (known) {
      req.log.info({ code: known.body.error.code, message: known.body.error.message }, 'request refused');
      return reply.code(known.status).send(known.body);
    }
    req.log.error({ err }, 'request failed');
    return reply
      .code(500)
      .send(body(ErrorCode.internal, `Internal server error; the server log has the details under request id ${req.id}`, { requestId: req.id }));
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send(body(ErrorCode.notFound, `No route ${req.method} ${req.url.split('?')[0]}; see GET /openapi.json for the routes`));
  });
}

/** Registered at the root (fastify-plugin) so every resource plugin shares the same error shape. */
export default fp(errorsPlugin, { name: 'graft-errors' });

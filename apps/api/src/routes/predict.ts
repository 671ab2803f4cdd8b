// POST /predict: a succeeded job's model answers for images sent as JSON (base64 or URLs) or as
// multipart files. The Predictor (model cache + inference threads) lives as long as the app and is
// shared by every request, so a warm model never touches storage again.
import type { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import fp from 'fastify-plugin';
import { Type } from '@sinclair/typebox';
import { ErrorBody, ErrorCode, GraftError, PredictRequest, PredictResponse } from '@graft/spec';
import { Predictor, readImageRef, servingSettingsFromEnv, type ReadObject, type ServingSettings } from '@graft/serving';
import type { Storage } from '@graft/storage';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Job } from '@graft/db';
import { ref, type RoutePlugin } from '../schemas.ts';
import { findJob } from './jobs.ts';

declare module 'fastify' {
  interface FastifyInstance {
    predictor: Predictor;
  }
}

/** Overrides of the PREDICT_* / MODEL_CACHE_* settings (tests pass small limits here). */
export type PredictPluginOptions = Partial<ServingSettings>;

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Whole objects from the app's storage, as the checkpoint reader wants them. */
export function objectReader(storage: Storage): ReadObject {
  return async (key) => readAll(await storage.get(key));
}

/** The job must exist and have succeeded before it has a model (to predict with or download). */
export async function succeededJob(app: FastifyInstance, jobId: string, tenantId: string): Promise<Job> {
  const job = await findJob(app, jobId, tenantId);
  if (job.status !== 'succeeded') {
    throw new GraftError(
      ErrorCode.conflict,
      `Job '${jobId}' is ${job.status}; only a succeeded job has a model${job.status === 'queued' || job.status === 'running' ? ' — wait for it to finish (GET /jobs/:id/events)' : ''}`,
      { field: 'jobId', status: job.status },
    );
  }
  return job;
}

function parseTopK(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw new GraftError(ErrorCode.validation, `topK '${raw}' must be a whole number`, { field: 'topK' });
  return Number(raw);
}

function routes(settings: ServingSettings): RoutePlugin {
  return async (app) => {
    if (!app.hasContentTypeParser('multipart/form-data')) {
      await app.register(multipart, { limits: { fileSize: settings.maxImageBytes, files: settings.maxBatch, fields: 10, fieldSize: 1024 } });
    }
    const tooMany = (n: number) => new GraftError(ErrorCode.payloadTooLarge, `${n} images in one request; at most ${settings.maxBatch} per request`, { field: 'images' });

    /** Multipart: a jobId field, an optional topK field and one or more image files (any field name). */
    async function readMultipart(req: FastifyRequest) {
      // the body limit does not apply to a streamed form: count what is read against it here
      const bodyTooLarge = () => new GraftError(ErrorCode.payloadTooLarge, `The form is larger than ${settings.maxBodyBytes} bytes; send fewer or smaller images per request`);
      if (Number(req.headers['content-length'] ?? 0) > settings.maxBodyBytes) throw bodyTooLarge();
      const fields: Record<string, string> = {};
      const images: Buffer[] = [];
      let total = 0;
      for await (const part of req.parts()) {
        if (part.type === 'file') {
          const bytes = await part.toBuffer().catch((err: { code?: string }) => {
            if (err.code === 'FST_REQ_FILE_TOO_LARGE') {
              throw new GraftError(ErrorCode.payloadTooLarge, `images[${images.length}] (${part.filename}) is larger than ${settings.maxImageBytes} bytes per image`, { index: images.length });
            }
            throw err;
          });
          total += bytes.byteLength;
          if (total > settings.maxBodyBytes) throw bodyTooLarge();
          images.push(bytes);
        } else fields[part.fieldname] = String(part.value);
      }
      if (!fields.jobId) throw new GraftError(ErrorCode.validation, 'jobId is required: send it as a form field beside the image files', { field: 'jobId' });
      if (images.length === 0) throw new GraftError(ErrorCode.validation, 'The form has no image file; send one or more files (curl -F image=@cat.png)', { field: 'images' });
      return { jobId: fields.jobId, topK: parseTopK(fields.topK), images };
    }

    app.post(
      '/predict',
      {
        bodyLimit: settings.maxBodyBytes,
        schema: {
          tags: ['predict'],
          summary: 'Predict classes of images with a succeeded job’s model',
          description:
            `JSON { jobId, images: [base64 | { base64 } | { url }], topK } or multipart/form-data (jobId field + image files). ` +
            `At most ${settings.maxBatch} images per request; predictions come back in input order.`,
          body: { content: { 'application/json': { schema: PredictRequest } } },
          response: {
            200: PredictResponse,
            400: ref(ErrorBody),
            404: ref(ErrorBody),
            409: ref(ErrorBody),
            413: ref(ErrorBody),
            415: ref(ErrorBody),
            429: ref(ErrorBody),
          },
        },
        config: {
          scope: 'predict',
          // Documents the multipart form beside the JSON body (the form itself is read as a stream).
          swaggerTransform: ({ schema, url }) => ({
            schema: {
              ...schema,
              body: {
                content: {
                  'application/json': { schema: PredictRequest },
                  'multipart/form-data': {
                    schema: Type.Object({
                      jobId: Type.String(),
                      topK: Type.Optional(Type.Integer({ minimum: 1 })),
                      image: Type.Array(Type.String({ format: 'binary' }), { description: 'One or more image files.' }),
                    }, { required: ['jobId', 'image'] }),
                  },
                },
              },
            },
            url,
          }),
        },
      },
      async (req) => {
        const { tenantId } = req.principal;
        // the job is the tenant's and has a model, and the tenant has predictions left, before any image is fetched
        const admit = async (jobId: string, n: number) => {
          await succeededJob(app, jobId, tenantId);
          const tenant = await app.prisma.tenant.findUniqueOrThrow({ where: { id: tenantId }, select: { predictPerMinute: true } });
          await app.quotas.predict.take(tenantId, n, tenant.predictPerMinute);
        };
        let request: { jobId: string; topK?: number; images: Buffer[] };
        if (req.isMultipart()) {
          request = await readMultipart(req);
          if (request.images.length > settings.maxBatch) throw tooMany(request.images.length);
          await admit(request.jobId, request.images.length);
        } else {
          const body = req.body as PredictRequest;
          if (body.images.length > settings.maxBatch) throw tooMany(body.images.length);
          await admit(body.jobId, body.images.length);
          const images = await Promise.all(body.images.map((image, i) => readImageRef(image, i, settings)));
          request = { jobId: body.jobId, topK: body.topK, images };
        }
        const predictions = await app.predictor.predict(request.jobId, request.images, request.topK);
        return { jobId: request.jobId, predictions };
      },
    );
  };
}

async function predictPlugin(app: FastifyInstance, opts: PredictPluginOptions): Promise<void> {
  const settings: ServingSettings = { ...servingSettingsFromEnv(), ...opts };
  const predictor = new Predictor({
    ...settings,
    readObject: objectReader(app.storage),
    backend: app.config.tfjsBackend,
  });
  app.decorate('predictor', predictor);
  app.addHook('onClose', () => predictor.close());
  await app.register(routes(settings));
}

/** Registered at the root so app.predictor (its cache and pool) is reachable for tests and shutdown. */
export default fp(predictPlugin, { name: 'graft-predict' });

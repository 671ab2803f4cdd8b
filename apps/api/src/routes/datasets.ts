// Dataset uploads: a zip / tar / tar.gz archive streamed from multipart straight into storage (never
// buffered whole), size-limited by MAX_UPLOAD_BYTES. The returned id is usable as dataset: { id }.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import { Type } from '@sinclair/typebox';
import type { Dataset } from '@graft/db';
import { archiveFormatOf } from '@graft/datasets';
import { datasetArchiveKey, datasetPrefix } from '@graft/storage';
import { ErrorBody, ErrorCode, GraftError } from '@graft/spec';
import { DatasetView, ref, type RoutePlugin } from '../schemas.ts';
import { isUuid } from '../job-spec-checks.ts';

// Headers and boundaries around the file part.
const multipartOverhead = 64 * 1024;

/**
 * Passes the upload through once its first bytes are those of a zip, tar or tar.gz, so a wrong file
 * (an image, a RAR, an HTML page) is refused now, with its reason, instead of failing a job later.
 */
async function* checkedArchive(file: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let head = Buffer.alloc(0);
  for await (const chunk of file) {
    if (head.length >= 512) {
      yield chunk;
      continue;
    }
    head = Buffer.concat([head, chunk]);
    if (head.length >= 512) {
      archiveFormatOf(head);
      yield head;
    }
  }
  if (head.length < 512) {
    archiveFormatOf(head);
    yield head;
  }
}

/** The tenant's dataset, or 404 (also when another tenant has it: never reveal that it exists). */
export async function findDataset(app: Parameters<RoutePlugin>[0], id: string, tenantId: string): Promise<Dataset> {
  const dataset = isUuid(id) ? await app.prisma.dataset.findFirst({ where: { id, tenantId } }) : null;
  if (!dataset) throw new GraftError(ErrorCode.notFound, `No dataset with id '${id}'`);
  return dataset;
}

const toView = (d: Dataset) => ({ id: d.id, filename: d.filename, sizeBytes: Number(d.sizeBytes), createdAt: d.createdAt.toISOString() });

const datasets: RoutePlugin = async (app) => {
  const maxBytes = app.config.maxUploadBytes;
  await app.register(multipart, { limits: { fileSize: maxBytes, files: 1, fields: 10, parts: 20 } });

  const tooLarge = () =>
    new GraftError(ErrorCode.payloadTooLarge, `The archive is larger than the upload limit of ${maxBytes} bytes (MAX_UPLOAD_BYTES); split it or pass it by URL`);

  app.post(
    '/datasets',
    {
      schema: {
        tags: ['datasets'],
        summary: 'Upload a dataset archive',
        description: 'multipart/form-data with one file field holding a zip, tar or tar.gz in ImageFolder layout or with labels.csv.',
        consumes: ['multipart/form-data'],
        response: { 201: ref(DatasetView), 400: ref(ErrorBody), 413: ref(ErrorBody), 415: ref(ErrorBody), 429: ref(ErrorBody) },
      },
      config: {
        scope: 'train',
        // Documented only: the file is streamed, so there is no parsed body to validate.
        swaggerTransform: ({ schema, url }) => ({
          schema: { ...schema, body: Type.Object({ file: Type.String({ format: 'binary' }) }, { required: ['file'] }) },
          url,
        }),
      },
    },
    async (req, reply) => {
      if (!req.isMultipart()) {
        throw new GraftError(ErrorCode.unsupportedMediaType, 'Send the archive as multipart/form-data with a file field (curl -F file=@data.zip)');
      }
      // Refuse what is announced too large before reading it.
      const announced = Number(req.headers['content-length'] ?? 0);
      if (announced > maxBytes + multipartOverhead) throw tooLarge();
      const { tenantId } = req.principal;
      await app.quotas.checkStorage(tenantId, Math.max(0, announced - multipartOverhead));
      const part = await req.file();
      if (!part) throw new GraftError(ErrorCode.validation, 'The form has no file; send the archive in a file field', { field: 'file' });

      const id = randomUUID();
      const key = datasetArchiveKey(id);
      const sizeBytes = await app.storage.put(key, Readable.from(checkedArchive(part.file)));
      // busboy ends a too-large file early (truncated) instead of failing the stream.
      if (part.file.truncated) {
        await app.storage.deletePrefix(datasetPrefix(id));
        throw tooLarge();
      }
      // the announced size was checked; the stored one decides (a chunked upload announces none)
      await app.quotas.checkStorage(tenantId, sizeBytes).catch(async (err) => {
        await app.storage.deletePrefix(datasetPrefix(id));
        throw err;
      });
      const dataset = await app.prisma.dataset.create({ data: { id, tenantId, filename: part.filename || 'archive', storageKey: key, sizeBytes: BigInt(sizeBytes) } });
      return reply.code(201).header('location', `/datasets/${id}`).send(toView(dataset));
    },
  );

  app.get(
    '/datasets/:id',
    {
      config: { scope: 'train' },
      schema: {
        tags: ['datasets'],
        summary: 'Read an uploaded dataset',
        params: Type.Object({ id: Type.String() }),
        response: { 200: ref(DatasetView), 404: ref(ErrorBody) },
      },
    },
    async (req) => toView(await findDataset(app, req.params.id, req.principal.tenantId)),
  );

  app.delete(
    '/datasets/:id',
    {
      config: { scope: 'train' },
      schema: {
        tags: ['datasets'],
        summary: 'Delete an uploaded dataset (frees its bytes of the storage quota)',
        description: 'Refused (409) while a queued or running job of the tenant uses it.',
        params: Type.Object({ id: Type.String() }),
        response: { 204: Type.Null(), 404: ref(ErrorBody), 409: ref(ErrorBody) },
      },
    },
    async (req, reply) => {
      const dataset = await findDataset(app, req.params.id, req.principal.tenantId);
      const uses = (['dataset', 'source', 'validation'] as const).map((field) => ({ spec: { path: [field, 'id'], equals: dataset.id } }));
      const user = await app.prisma.job.findFirst({ where: { tenantId: dataset.tenantId, status: { in: ['queued', 'running'] }, OR: uses }, select: { id: true } });
      if (user) throw new GraftError(ErrorCode.conflict, `Dataset ${dataset.id} is used by job ${user.id}, which has not ended; cancel it or wait for it first`);
      await app.prisma.dataset.delete({ where: { id: dataset.id } });
      await app.storage.deletePrefix(datasetPrefix(dataset.id));
      return reply.code(204).send(null);
    },
  );
};

export default datasets;

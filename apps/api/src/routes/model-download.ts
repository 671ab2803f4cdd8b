// GET /jobs/:id/model: a succeeded job's model for users' own code. Default: a zip of the TF.js
// layers checkpoint (model.json + weights.bin + metadata.json with labels and preprocessing), which
// tf.loadLayersModel opens as it is; ?format=onnx: the ONNX file (stored by the worker, or exported now).
import { Type } from '@sinclair/typebox';
import yazl from 'yazl';
import { exportToOnnx, UnsupportedLayerError } from '@graft/onnx';
import { exportMetadata } from '@graft/engine';
import { ErrorBody, ErrorCode, GraftError } from '@graft/spec';
import { ONNX_FILE, loadTfjsModel, readCheckpoint } from '@graft/serving';
import { checkpointPrefix } from '@graft/storage';
import { ref, type RoutePlugin } from '../schemas.ts';
import { JobParams } from './jobs.ts';
import { objectReader, succeededJob } from './predict.ts';

const binary = (description: string) => ({ description, type: 'string', format: 'binary' });

const modelDownload: RoutePlugin = async (app) => {
  app.get(
    '/jobs/:id/model',
    {
      config: { scope: 'predict' },
      schema: {
        tags: ['jobs'],
        summary: 'Download a succeeded job’s model',
        description:
          'format=tfjs (default): a zip of model.json, weights.bin and metadata.json (labels, preprocessing); unzip and open ' +
          'model.json with tf.loadLayersModel. format=onnx: model.onnx (opset 13, NHWC float32 input in the preprocessing’s pixel range).',
        params: JobParams,
        querystring: Type.Object({ format: Type.Optional(Type.Union([Type.Literal('tfjs'), Type.Literal('onnx')], { default: 'tfjs' })) }, { additionalProperties: false }),
        response: {
          200: {
            description: 'The model file',
            content: { 'application/zip': { schema: binary('TF.js layers checkpoint (zip)') }, 'application/octet-stream': { schema: binary('ONNX model') } },
          },
          400: ref(ErrorBody),
          404: ref(ErrorBody),
          409: ref(ErrorBody),
        },
      },
    },
    async (req, reply) => {
      const job = await succeededJob(app, req.params.id, req.principal.tenantId);
      const checkpoint = await readCheckpoint(objectReader(app.storage), job.checkpointKey ?? checkpointPrefix(job.id));
      if (req.query.format === 'onnx') {
        let onnx = checkpoint.files.get(ONNX_FILE);
        if (!onnx) {
          const model = await loadTfjsModel(checkpoint);
          try {
            onnx = Buffer.from(exportToOnnx(model, { metadata: exportMetadata(checkpoint.metadata) }));
          } catch (err) {
            if (err instanceof UnsupportedLayerError) {
              throw new GraftError(ErrorCode.conflict, `This model cannot be exported to ONNX (${err.message}); download it with format=tfjs.`);
            }
            throw err;
          } finally {
            model.dispose();
          }
        }
        return reply
          .type('application/octet-stream')
          .header('content-disposition', `attachment; filename="graft-${job.id}.onnx"`)
          .send(onnx);
      }
      const zip = new yazl.ZipFile();
      for (const [name, bytes] of checkpoint.files) {
        if (name !== ONNX_FILE) zip.addBuffer(bytes, name);
      }
      zip.end();
      return reply
        .type('application/zip')
        .header('content-disposition', `attachment; filename="graft-${job.id}-tfjs.zip"`)
        .send(zip.outputStream);
    },
  );
};

export default modelDownload;

// A succeeded job as the worker leaves it — a Job row, epoch rows, an evaluation and the checkpoint
// files in storage under jobs/<id>/model/ — for testing what users do with a finished job
// (predict, download, report) without spending a training run on each test.
import { randomUUID } from 'node:crypto';
import type { Evaluation } from '@graft/spec';
import type { TestApi } from './api.ts';
import { makeTinyCheckpoint, type TinyCheckpoint } from './tiny-checkpoint.ts';

export interface ServedJob extends TinyCheckpoint {
  id: string;
}

/** `checkpoint`: serve these files (e.g. a trained model's) instead of a tiny random classifier. */
export async function seedServedJob(
  api: TestApi,
  opts: { status?: 'succeeded' | 'running' | 'failed'; seed?: number; checkpoint?: TinyCheckpoint; tenantId?: string } = {},
): Promise<ServedJob> {
  const tiny = opts.checkpoint ?? (await makeTinyCheckpoint({ seed: opts.seed }));
  const id = randomUUID();
  const prefix = `jobs/${id}/model/`;
  for (const [name, bytes] of tiny.files) await api.app.storage.put(prefix + name, bytes);
  const status = opts.status ?? 'succeeded';
  const done = status !== 'running';
  await api.db.prisma.job.create({
    data: {
      id,
      tenantId: opts.tenantId ?? api.tenantId,
      method: 'fine_tune',
      status,
      progress: done ? 1 : 0.4,
      stage: done ? null : 'training',
      spec: { method: 'fine_tune', dataset: { url: 'https://example.com/data.zip' } },
      classes: tiny.labels,
      checkpointKey: status === 'succeeded' ? prefix : null,
      startedAt: new Date(),
      finishedAt: done ? new Date() : null,
      ...(status === 'failed' ? { errorCode: 'no_images', errorMessage: 'The archive holds no images' } : {}),
    },
  });
  const epochs = [
    { epoch: 1, loss: 1.05, accuracy: 0.52, valLoss: 0.98, valAccuracy: 0.55 },
    { epoch: 2, loss: 0.61, accuracy: 0.8, valLoss: 0.66, valAccuracy: 0.78 },
    { epoch: 3, loss: 0.32, accuracy: 0.93, valLoss: 0.41, valAccuracy: 0.9 },
  ];
  await api.db.prisma.epochMetric.createMany({ data: epochs.map((e) => ({ jobId: id, ...e })) });
  if (status === 'succeeded') {
    const evaluation: Evaluation = {
      split: 'validation',
      accuracy: 0.9,
      macroF1: 0.897,
      perClass: tiny.labels.map((label, i) => ({ label, precision: 0.9 - i * 0.05, recall: 0.88, f1: 0.89 - i * 0.02, support: 10 })),
      confusionMatrix: { labels: tiny.labels, matrix: [[9, 1, 0], [1, 8, 1], [0, 0, 10]] },
      topK: { '1': 0.9, '2': 0.97 },
    };
    await api.db.prisma.evaluation.create({ data: { jobId: id, data: evaluation } });
  }
  return { id, ...tiny };
}

// The report renderer on its own: method-specific curves (DANN's domain loss) and hostile labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JobView, MetricsView } from '@graft/spec';
import { renderReportPage } from '../../apps/api/src/report/report-page.ts';

const job: JobView = {
  id: 'j1',
  method: 'domain_adaptation',
  status: 'succeeded',
  progress: 1,
  stage: null,
  classes: ['<b>cat</b>', 'dog'],
  spec: {},
  createdAt: '2026-01-01T00:00:00.000Z',
  startedAt: null,
  finishedAt: null,
  error: null,
  resolvedHyperparameters: null,
  sweepId: null,
  trialIndex: null,
};

test('DANN curves include the domain loss and accuracy; labels are escaped', () => {
  const epochs = [1, 2, 3].map((epoch) => ({
    epoch,
    loss: 1 / epoch,
    accuracy: 0.5 + epoch / 10,
    valLoss: null,
    valAccuracy: null,
    extra: { labelLoss: 0.9 / epoch, domainLoss: 0.69, domainAccuracy: 0.5, targetAccuracy: 0.4 + epoch / 10, lambda: epoch / 3 },
  }));
  const metrics: MetricsView = {
    jobId: 'j1',
    status: 'succeeded',
    epochs,
    evaluation: {
      split: 'target',
      accuracy: 0.7,
      macroF1: 0.69,
      perClass: [
        { label: '<b>cat</b>', precision: 0.7, recall: 0.7, f1: 0.7, support: 5 },
        { label: 'dog', precision: 0.7, recall: 0.7, f1: 0.7, support: 5 },
      ],
      confusionMatrix: { labels: ['<b>cat</b>', 'dog'], matrix: [[4, 1], [2, 3]] },
      topK: { '1': 0.7 },
    },
    stages: [],
  };
  const html = renderReportPage(job, metrics);
  for (const s of ['domainLoss', 'labelLoss', 'domainAccuracy', 'targetAccuracy']) assert.ok(html.includes(`data-series="${s}"`), s);
  assert.ok(!html.includes('data-series="lambda"'), 'λ is neither a loss nor an accuracy');
  assert.ok(!html.includes('data-series="val loss"'), 'a series with no values is not drawn');
  assert.ok(!html.includes('<b>cat</b>'));
  assert.ok(html.includes('&lt;b&gt;cat&lt;/b&gt;'));
});

test('the report says which epoch the served model holds when it is not the last', () => {
  const epochs = [1, 2].map((epoch) => ({ epoch, loss: 0.5, accuracy: 0.9, valLoss: 0.8 + epoch / 10, valAccuracy: 0.8 }));
  const evaluation = { split: 'validation', accuracy: 0.8, macroF1: 0.8, perClass: [], confusionMatrix: { labels: [], matrix: [] }, topK: {} };
  const page = (servedEpoch?: number) => renderReportPage(job, { jobId: 'j1', status: 'succeeded', epochs, evaluation: { ...evaluation, servedEpoch }, stages: [] });
  assert.match(page(0), /served model<\/dt><dd>the starting linear probe/);
  assert.match(page(1), /served model<\/dt><dd>epoch 1 /);
  assert.doesNotMatch(page(2), /served model/);
  assert.doesNotMatch(page(), /served model/);
});

test('the report says when the served model is the probe refitted on every labelled image, not the one scored', () => {
  const epochs = [{ epoch: 1, loss: 0.5, accuracy: 0.9, valLoss: 0.6, valAccuracy: 0.8 }];
  const evaluation = { split: 'validation', accuracy: 0.8, macroF1: 0.8, perClass: [], confusionMatrix: { labels: ['a', 'b'], matrix: [[3, 1], [1, 5]] }, topK: {} };
  const page = (servedEpoch: number, refit: boolean) =>
    renderReportPage(job, { jobId: 'j1', status: 'succeeded', epochs, evaluation: { ...evaluation, servedEpoch, servedFit: { images: 50, refit } }, stages: [] });
  assert.match(page(1, true), /served model<\/dt><dd>refitted on all 50 labelled images; the scores above are of the fit without the 10 held-out images/);
  assert.match(page(0, true), /served model<\/dt><dd>the starting linear probe \(no epoch beat it on the validation loss\), refitted on all 50 labelled images/);
  assert.doesNotMatch(page(1, false), /served model/);
});

test('the stage times are shown with their share of the whole', () => {
  const stages = [
    { stage: 'queued', seconds: 0.5 },
    { stage: 'dataset: extract and check', seconds: 1.5 },
    { stage: 'training', seconds: 3 },
  ];
  const html = renderReportPage(job, { jobId: 'j1', status: 'succeeded', epochs: [], evaluation: null, stages });
  const table = html.slice(html.indexOf('<table id="stage-times"'), html.indexOf('</table>', html.indexOf('stage-times')));
  assert.match(table, /<td>dataset: extract and check<\/td><td>1\.50<\/td><td>30 %<\/td>/);
  assert.match(table, /<td>total<\/td><td>5\.00<\/td>/);
});

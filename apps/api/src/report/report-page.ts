// GET /jobs/:id/report: the training run as a page a person reads — status, curves of loss and
// accuracy per epoch (method-specific extras such as DANN's domain loss included), the confusion
// matrix as a heat map and the per-class table. Everything inline (SVG + CSS): no CDN, no script.
import type { EpochMetrics, JobView, MetricsView } from '@graft/spec';
import { confusionHeatMapSvg } from './heat-map.ts';
import { lineChartSvg, type Series } from './line-chart.ts';
import { escapeXml, formatNumber } from './markup.ts';

const isLoss = (key: string) => /loss$/i.test(key);
const isAccuracy = (key: string) => /accuracy$/i.test(key);

function seriesOf(epochs: EpochMetrics[], name: string, pick: (m: EpochMetrics) => number | null | undefined, dashed = false): Series {
  return { name, dashed, points: epochs.map((m) => ({ x: m.epoch, y: pick(m) ?? null })) };
}

/** Train/validation curves plus every method-specific extra of the same kind (domainLoss, targetAccuracy …). */
function curves(epochs: EpochMetrics[], kind: 'loss' | 'accuracy'): Series[] {
  const extras = [...new Set(epochs.flatMap((m) => Object.keys(m.extra ?? {})))].filter(kind === 'loss' ? isLoss : isAccuracy);
  const main =
    kind === 'loss'
      ? [seriesOf(epochs, 'train loss', (m) => m.loss), seriesOf(epochs, 'val loss', (m) => m.valLoss, true)]
      : [seriesOf(epochs, 'train accuracy', (m) => m.accuracy), seriesOf(epochs, 'val accuracy', (m) => m.valAccuracy, true)];
  return [...main, ...extras.map((key) => seriesOf(epochs, key, (m) => m.extra?.[key]))];
}

const style = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1120px;color:#111;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.muted{color:#6b7280}.status{display:inline-block;padding:1px 8px;border-radius:10px;background:#e5e7eb}
.status.succeeded{background:#dcfce7}.status.failed{background:#fee2e2}.status.running{background:#dbeafe}
.charts{display:flex;flex-wrap:wrap;gap:16px}.chart,.heatmap{background:#fafafa;border:1px solid #e5e7eb;border-radius:6px}
.chart-title{font-weight:600;font-size:13px}.tick,.legend{font-size:11px;fill:#374151}.axis-label{font-size:11px;fill:#6b7280}
.axis{stroke:#9ca3af}.grid{stroke:#eee}.cell{font-size:11px}
table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #e5e7eb;text-align:right}td:first-child,th:first-child{text-align:left}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 16px}dt{color:#6b7280}dd{margin:0}
`;

export function renderReportPage(job: JobView, metrics: MetricsView): string {
  const ev = metrics.evaluation;
  const title = `Graft job ${job.id}`;
  const facts: [string, string][] = [
    ['method', job.method],
    ['status', job.status],
    ['classes', job.classes?.join(', ') ?? '—'],
    ['created', job.createdAt],
    ['finished', job.finishedAt ?? '—'],
    ['epochs', String(metrics.epochs.length)],
  ];
  if (ev) {
    facts.push([`accuracy (${ev.split})`, formatNumber(ev.accuracy)], ['macro-F1', formatNumber(ev.macroF1)]);
    // a user reading falling validation curves should see that the model served is not the last epoch's
    const served: string[] = [];
    if (ev.servedEpoch === 0) served.push('the starting linear probe (no epoch beat it on the validation loss)');
    else if (ev.servedEpoch !== undefined && ev.servedEpoch !== metrics.epochs.length) served.push(`epoch ${ev.servedEpoch} (the lowest validation loss)`);
    // the scores above are of the fit before the refit: a user must not read them as the served model's own
    if (ev.servedFit?.refit) {
      const heldOut = ev.confusionMatrix.matrix.flat().reduce((a, b) => a + b, 0);
      served.push(`refitted on all ${ev.servedFit.images} labelled images; the scores above are of the fit without the ${heldOut} held-out images they were measured on`);
    }
    if (served.length) facts.push(['served model', served.join(', ')]);
    for (const [k, v] of Object.entries(ev.topK)) facts.push([`top-${k} accuracy`, formatNumber(v)]);
  }
  if (job.error) facts.push(['error', `${job.error.code}: ${job.error.message}`]);

  const body: string[] = [
    `<h1>${escapeXml(title)}</h1>`,
    `<p><span class="status ${escapeXml(job.status)}">${escapeXml(job.status)}</span> <span class="muted">${escapeXml(job.stage ?? '')}</span></p>`,
    `<dl>${facts.map(([k, v]) => `<dt>${escapeXml(k)}</dt><dd>${escapeXml(v)}</dd>`).join('')}</dl>`,
    '<h2>Training curves</h2>',
    '<div class="charts">',
    `<figure id="loss-curve">${lineChartSvg({ title: 'Loss per epoch', xLabel: 'epoch', yLabel: 'loss', series: curves(metrics.epochs, 'loss') })}</figure>`,
    `<figure id="accuracy-curve">${lineChartSvg({ title: 'Accuracy per epoch', xLabel: 'epoch', yLabel: 'accuracy', series: curves(metrics.epochs, 'accuracy') })}</figure>`,
    '</div>',
  ];
  if (metrics.stages.length > 0) {
    const total = metrics.stages.reduce((a, st) => a + st.seconds, 0);
    body.push(
      '<h2>Where the time went</h2>',
      '<table id="stage-times"><thead><tr><th>stage</th><th>seconds</th><th>share</th></tr></thead><tbody>',
      ...metrics.stages.map(
        (st) => `<tr><td>${escapeXml(st.stage)}</td><td>${st.seconds.toFixed(2)}</td><td>${total > 0 ? Math.round((100 * st.seconds) / total) : 0} %</td></tr>`,
      ),
      `<tr><td>total</td><td>${total.toFixed(2)}</td><td></td></tr>`,
      '</tbody></table>',
    );
  }
  if (ev) {
    body.push(
      `<h2>Confusion matrix <span class="muted">(${escapeXml(ev.split)})</span></h2>`,
      `<figure id="confusion-matrix">${confusionHeatMapSvg(ev.confusionMatrix.labels, ev.confusionMatrix.matrix)}</figure>`,
      '<h2>Per class</h2>',
      '<table id="per-class"><thead><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr></thead><tbody>',
      ...ev.perClass.map(
        (c) =>
          `<tr><td>${escapeXml(c.label)}</td><td>${formatNumber(c.precision)}</td><td>${formatNumber(c.recall)}</td><td>${formatNumber(c.f1)}</td><td>${c.support}</td></tr>`,
      ),
      '</tbody></table>',
    );
  } else {
    body.push('<p class="muted">No evaluation yet: the confusion matrix and per-class table appear when the job finishes.</p>');
  }
  return htmlPage(title, body);
}

/** A self-contained report page (inline CSS) around body parts already escaped. */
export function htmlPage(title: string, body: string[]): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeXml(title)}</title><style>${style}</style></head><body>${body.join('\n')}</body></html>`;
}

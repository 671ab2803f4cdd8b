// GET /sweeps/:id/report: the sweep as a page — its status and best trial, the leaderboard (each trial
// linked to its own job report) and every trial's validation curve on one chart. Inline SVG + CSS only.
import type { EpochMetrics, SweepView } from '@graft/spec';
import { lineChartSvg, type Series } from './line-chart.ts';
import { escapeXml, formatNumber } from './markup.ts';
import { htmlPage } from './report-page.ts';

export interface TrialCurve {
  index: number;
  epochs: Pick<EpochMetrics, 'epoch' | 'valLoss' | 'valAccuracy'>[];
}

const formatValue = (v: unknown) => (typeof v === 'number' ? formatNumber(v) : typeof v === 'string' ? v : JSON.stringify(v));

export function renderSweepReportPage(sweep: SweepView, curves: TrialCurve[]): string {
  const title = `Graft sweep ${sweep.id}`;
  // the objective's own curve; macroF1 has none per epoch, validation accuracy stands in
  const loss = sweep.objective === 'valLoss';
  const series: Series[] = curves.map((c) => ({
    name: `trial ${c.index}`,
    points: c.epochs.map((m) => ({ x: m.epoch, y: loss ? m.valLoss : m.valAccuracy })),
  }));
  const names = [...new Set(sweep.trials.flatMap((t) => Object.keys(t.hyperparameters)))];
  const facts: [string, string][] = [
    ['status', sweep.status],
    ['objective', sweep.objective],
    ['trials', String(sweep.trials.length)],
    ['best', sweep.best ? `${sweep.best.jobId} (${formatNumber(sweep.best.objective)})` : '—'],
    ['created', sweep.createdAt],
    ['finished', sweep.finishedAt ?? '—'],
  ];
  if (sweep.error) facts.push(['error', `${sweep.error.code}: ${sweep.error.message}`]);
  const body = [
    `<h1>${escapeXml(title)}</h1>`,
    `<p><span class="status ${escapeXml(sweep.status)}">${escapeXml(sweep.status)}</span></p>`,
    `<dl>${facts.map(([k, v]) => `<dt>${escapeXml(k)}</dt><dd>${escapeXml(v)}</dd>`).join('')}</dl>`,
    '<h2>Leaderboard</h2>',
    '<table id="leaderboard"><thead><tr><th>rank</th><th>trial</th><th>status</th>',
    `<th>${escapeXml(sweep.objective)}</th><th>epochs</th>${names.map((n) => `<th>${escapeXml(n)}</th>`).join('')}<th>job</th></tr></thead><tbody>`,
    ...sweep.trials.map(
      (t, rank) =>
        `<tr data-job="${escapeXml(t.jobId)}"><td>${t.status === 'succeeded' ? rank + 1 : ''}</td><td>${t.index}</td><td><span class="status ${escapeXml(t.status)}">${escapeXml(t.status)}</span></td>` +
        `<td>${t.objective === null ? '—' : formatNumber(t.objective)}</td><td>${t.epochs}</td>` +
        names.map((n) => `<td>${n in t.hyperparameters ? escapeXml(formatValue(t.hyperparameters[n])) : ''}</td>`).join('') +
        `<td><a href="/jobs/${escapeXml(t.jobId)}/report">report</a></td></tr>`,
    ),
    '</tbody></table>',
    '<h2>Validation curves</h2>',
    `<figure id="trial-curves">${lineChartSvg({ title: loss ? 'Validation loss per epoch' : 'Validation accuracy per epoch', xLabel: 'epoch', yLabel: loss ? 'val loss' : 'val accuracy', series })}</figure>`,
  ];
  return htmlPage(title, body);
}

// One job: status and live progress; loss and accuracy curves that grow epoch by epoch while it trains; then
// the evaluation, the hyper-parameters it ran with, stage times (and any other fields the API adds), "try it"
// and the model downloads.
import { html, useEffect, useState } from './lib.js';
import { download, request } from './api.js';
import { EpochChart } from './charts.js';
import { EvaluationView } from './evaluation.js';
import { TryModel } from './try-model.js';
import { anyValue, duration, methodNames, when, words } from './format.js';
import { isActive, useLiveJob, useTicking } from './job-stream.js';
import { Progress, StatusBadge, cancel } from './job-status.js';

// Everything else the API returns is shown generically, so new fields appear without a console change.
const knownJobFields = new Set(['id', 'method', 'status', 'progress', 'stage', 'classes', 'spec', 'createdAt', 'startedAt', 'finishedAt', 'error', 'resolvedHyperparameters', 'sweepId', 'trialIndex']);
const knownMetricsFields = new Set(['jobId', 'status', 'epochs', 'evaluation']);

function KeyValues({ title, entries, testid }) {
  if (!entries.length) return null;
  return html`
    <section class="kv" data-testid=${testid}>
      <h2>${title}</h2>
      <dl>${entries.map(([k, v]) => html`<div><dt>${words(k)}</dt><dd>${anyValue(v, k)}</dd></div>`)}</dl>
    </section>`;
}

/** A field of unknown shape: an object becomes key/value rows, an array of objects one row per item. */
function extraEntries(value) {
  if (Array.isArray(value)) {
    return value.map((item, i) => {
      const name = String(item?.stage ?? item?.name ?? i + 1);
      if (typeof item?.ms === 'number') return [`${name}Ms`, item.ms];
      if (typeof item?.seconds === 'number') return [`${name}Seconds`, item.seconds];
      return [name, item];
    });
  }
  if (value && typeof value === 'object') return Object.entries(value);
  return [['value', value]];
}

function Curves({ epochs }) {
  const x = epochs.map((e) => e.epoch);
  const pick = (keyTest) => {
    const extras = [...new Set(epochs.flatMap((e) => Object.keys(e.extra ?? {})))].filter(keyTest);
    return extras.map((k) => ({ label: words(k), values: epochs.map((e) => e.extra?.[k] ?? null) }));
  };
  return html`
    <section aria-labelledby="curves-title">
      <h2 id="curves-title">Training curves</h2>
      ${epochs.length === 0
        ? html`<p class="muted">The curves appear after the first epoch.</p>`
        : html`
          <div class="two-col">
            <${EpochChart} title="Loss" epochs=${x} series=${[
              { label: 'loss', values: epochs.map((e) => e.loss) },
              { label: 'val loss', values: epochs.map((e) => e.valLoss) },
              ...pick((k) => /loss$/i.test(k)),
            ]} />
            <${EpochChart} title="Accuracy" epochs=${x} yRange=${[0, 1.04]} series=${[
              { label: 'accuracy', values: epochs.map((e) => e.accuracy) },
              { label: 'val accuracy', values: epochs.map((e) => e.valAccuracy) },
              ...pick((k) => /accuracy$/i.test(k)),
            ]} />
          </div>`}
    </section>`;
}

function Downloads({ job }) {
  const [error, setError] = useState(null);
  const get = (format, name) => download(`/jobs/${job.id}/model${format ? `?format=${format}` : ''}`, name).catch((err) => setError(err.message));
  return html`
    <section aria-labelledby="dl-title">
      <h2 id="dl-title">Download the model</h2>
      <div class="actions">
        <button type="button" onClick=${() => get('', `graft-${job.id}-tfjs.zip`)}>TF.js model (zip)</button>
        <button type="button" onClick=${() => get('onnx', `graft-${job.id}.onnx`)}>ONNX model</button>
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </section>`;
}

export function JobPage({ id }) {
  const [loaded, setLoaded] = useState(null); // { job, metrics }
  const [epochs, setEpochs] = useState([]);
  const [error, setError] = useState(null);

  const load = () =>
    Promise.all([request(`/jobs/${id}`), request(`/jobs/${id}/metrics`)]).then(([job, metrics]) => {
      setLoaded({ job, metrics });
      setEpochs(metrics.epochs);
    }, setError);
  useEffect(() => void load(), [id]);

  const job = useLiveJob(loaded?.job, (epoch) => setEpochs((all) => (all.some((e) => e.epoch === epoch.epoch) ? all : [...all, epoch])));
  useTicking(isActive(job));
  // The end of the run brings the evaluation and the resolved settings: read them once.
  useEffect(() => {
    if (loaded && job && !isActive(job) && isActive(loaded.job)) load();
  }, [job?.status]);

  if (error) return html`<h1>Job</h1><p class="error" role="alert">${error.message}</p>`;
  if (!loaded || !job) return html`<h1>Job</h1><p class="muted" role="status">Loading…</p>`;
  const { metrics } = loaded;
  const full = loaded.job; // the last full read; `job` is the live view
  const resolved = full.resolvedHyperparameters;
  const submitted = full.spec?.hyperparameters ?? {};

  return html`
    <div class="title-row">
      <h1>${methodNames[job.method] ?? job.method} <span class="muted">· ${job.id.slice(0, 8)}</span></h1>
      <${StatusBadge} status=${job.status} />
    </div>
    <section class="job-head" aria-label="Status">
      <${Progress} job=${job} />
      <p class="muted small">
        submitted ${when(job.createdAt)}${job.startedAt ? ` · started ${when(job.startedAt)}` : ''}${job.startedAt ? ` · ${job.finishedAt ? 'took' : 'running for'} ${duration(job.startedAt, job.finishedAt)}` : ''}
        ${job.classes ? ` · ${job.classes.length} classes: ${job.classes.join(', ')}` : ''}
      </p>
      ${full.sweepId && html`<p data-testid="job-sweep">Trial ${full.trialIndex + 1} of <a href=${`#/sweeps/${full.sweepId}`}>sweep ${full.sweepId.slice(0, 8)}</a></p>`}
      ${job.error && html`<p class="error" role="alert"><strong>${job.error.code}</strong>: ${job.error.message}</p>`}
      ${isActive(job) && html`<div class="actions"><button type="button" onClick=${() => cancel(job)}>Cancel job</button></div>`}
    </section>

    ${(epochs.length > 0 || isActive(job)) && html`<${Curves} epochs=${epochs} />`}
    ${metrics.evaluation && html`<${EvaluationView} evaluation=${metrics.evaluation} />`}

    ${job.status === 'succeeded' && html`
      <div class="two-col">
        <${TryModel} jobId=${job.id} classCount=${job.classes?.length} />
        <${Downloads} job=${job} />
      </div>`}

    <div class="two-col">
      ${resolved
        ? html`<${KeyValues} title="Hyper-parameters (resolved)" entries=${Object.entries(resolved)} testid="resolved-hyperparameters" />`
        : html`<${KeyValues} title="Hyper-parameters (as submitted; the rest are defaults)" entries=${Object.entries(submitted)} />`}
      ${Object.entries(metrics).filter(([k]) => !knownMetricsFields.has(k)).map(([k, v]) => html`<${KeyValues} title=${words(k)} entries=${extraEntries(v)} testid=${`metrics-${k}`} />`)}
      ${Object.entries(full).filter(([k]) => !knownJobFields.has(k)).map(([k, v]) => html`<${KeyValues} title=${words(k)} entries=${extraEntries(v)} testid=${`job-${k}`} />`)}
    </div>
    <p class="muted small">Data: ${full.spec?.dataset?.id ?? full.spec?.dataset?.url}${full.spec?.source ? ` · source ${full.spec.source.id ?? full.spec.source.url}` : ''} · backbone ${typeof full.spec?.backbone === 'string' ? full.spec.backbone : full.spec?.backbone ? full.spec.backbone.url : 'default'}</p>`;
}

// Sweeps: the list (status, trials ended of planned, best objective) and one sweep's page. A sweep has no event
// stream, so the page re-reads GET /sweeps/:id while it runs: the leaderboard, every trial's validation curve
// (GET /jobs/:id/metrics, read once for a trial that has ended and on every poll while it trains), cancel and,
// once it ended, the best trial's job, where its model is tried and downloaded.
import { html, useEffect, useRef, useState } from './lib.js';
import { request } from './api.js';
import { EpochChart } from './charts.js';
import { anyValue, duration, fixed, methodNames, percent, when } from './format.js';
import { StatusBadge } from './job-status.js';
import { plannedTrials } from './sweep-search.js';
import { ListPage } from './list-page.js';

const refreshMs = 2000;
const pageSize = 20;
const active = (status) => status === 'queued' || status === 'running';
// A cancelled sweep's running trials stop at their next batch: the pages follow them there.
const followed = (s) => active(s.status) || s.trials.some((t) => active(t.status));

const objectiveNames = { valAccuracy: 'validation accuracy', valLoss: 'validation loss', macroF1: 'macro F1' };
const score = (objective, v) => (objective === 'valAccuracy' ? percent(v, 1) : fixed(v, objective === 'valLoss' ? 4 : 3));
// Trials are numbered from 1 on the page (the API's index is 0-based).
const trialName = (t) => `#${t.index + 1}`;

function TrialsDone({ sweep }) {
  const planned = plannedTrials(sweep.spec.search);
  const ended = sweep.trials.filter((t) => !active(t.status)).length;
  const label = `${ended} of ${planned} trials ended`;
  return html`
    <div class="progress">
      <progress max=${planned} value=${ended} aria-label=${`Trials of sweep ${sweep.id.slice(0, 8)}`} aria-valuetext=${label}></progress>
      <span class="progress-text" data-testid="trials-done">${label}</span>
    </div>`;
}

/** Re-runs load() every refreshMs while keepGoing(its result) holds (and after a network error); stops on unmount. */
function usePolling(load, keepGoing, deps) {
  useEffect(() => {
    let stopped = false;
    let timer;
    const poll = async () => {
      let again = true;
      try {
        again = keepGoing(await load(() => stopped));
      } catch (err) {
        again = err.status === 0; // the service could not be reached: try again; other errors are shown
      }
      if (again && !stopped) timer = setTimeout(poll, refreshMs);
    };
    poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, deps);
}

export function SweepsView() {
  const [page, setPage] = useState(0);
  const [list, setList] = useState(null);
  const [error, setError] = useState(null);
  usePolling(
    () => request(`/sweeps?limit=${pageSize}&offset=${page * pageSize}`).then((l) => (setList(l), setError(null), l), (err) => { setError(err); throw err; }),
    (l) => l.items.some(followed),
    [page],
  );
  return html`<${ListPage} title="Sweeps" newLink=${{ href: '#/new?search=1', label: 'New sweep' }} list=${list} error=${error}
    empty=${html`No sweeps yet. <a href="#/new?search=1">Search hyper-parameters</a> on the new-job form to start one.`}
    page=${page} pageSize=${pageSize} onPage=${setPage} renderItem=${(s) => html`<${SweepRow} key=${s.id} sweep=${s} />`} />`;
}

function SweepRow({ sweep: s }) {
  return html`
    <li class="job-row" data-status=${s.status}>
      <div class="job-main">
        <a href=${`#/sweeps/${s.id}`} class="job-link">${methodNames[s.spec.method] ?? s.spec.method} sweep <span class="muted">· ${s.id.slice(0, 8)}</span></a>
        <span class="muted small">${s.spec.search.algorithm} search over ${Object.keys(s.spec.search.space).join(', ')} · submitted ${when(s.createdAt)}</span>
        ${s.error && html`<span class="error small">${s.error.message}</span>`}
      </div>
      <${StatusBadge} status=${s.status} />
      <${TrialsDone} sweep=${s} />
      <span class="small" data-testid="best">${s.best ? html`best <strong>${score(s.objective, s.best.objective)}</strong>` : html`<span class="muted">no best yet</span>`}</span>
    </li>`;
}

function Leaderboard({ sweep }) {
  const names = [...new Set(sweep.trials.flatMap((t) => Object.keys(t.hyperparameters)))];
  const bestId = sweep.best?.jobId;
  return html`
    <section aria-labelledby="leaderboard-title">
      <h2 id="leaderboard-title">Leaderboard</h2>
      ${sweep.trials.length === 0
        ? html`<p class="muted">The first trials are waiting for a worker.</p>`
        : html`
          <div class="scroll-x">
            <table class="compact leaderboard" data-testid="leaderboard">
              <caption class="sr-only">Trials, best ${objectiveNames[sweep.objective]} first</caption>
              <thead><tr>
                <th scope="col">Rank</th><th scope="col">Trial</th>
                ${names.map((n) => html`<th scope="col">${n}</th>`)}
                <th scope="col">Status</th><th scope="col" class="num">${objectiveNames[sweep.objective]}</th><th scope="col" class="num">Epochs</th>
              </tr></thead>
              <tbody>${sweep.trials.map((t, rank) => html`
                <tr key=${t.jobId} class=${t.jobId === bestId ? 'best' : undefined} data-job=${t.jobId}>
                  <td>${t.status === 'succeeded' ? rank + 1 : ''}${t.jobId === bestId ? html` <span class="best-mark">★ best</span>` : ''}</td>
                  <td><a href=${`#/jobs/${t.jobId}`} aria-label=${`Trial ${t.index + 1}${t.jobId === bestId ? ' (best)' : ''}: job ${t.jobId.slice(0, 8)}`}>Trial ${trialName(t)}</a></td>
                  ${names.map((n) => html`<td>${n in t.hyperparameters ? anyValue(t.hyperparameters[n]) : ''}</td>`)}
                  <td><${StatusBadge} status=${t.status} /></td>
                  <td class="num">${score(sweep.objective, t.objective)}${t.status !== 'succeeded' && t.objective !== null ? html` <span class="muted small">so far</span>` : ''}</td>
                  <td class="num">${t.epochs}</td>
                </tr>`)}</tbody>
            </table>
          </div>`}
    </section>`;
}

/** Every trial's validation curve (the objective's own; macroF1 has none per epoch, so accuracy stands in), in trial order. */
function TrialCurves({ sweep, curves }) {
  const loss = sweep.objective === 'valLoss';
  const trials = [...sweep.trials].sort((a, b) => a.index - b.index).filter((t) => curves[t.jobId]?.length);
  if (!trials.length) return html`<section><h2>Validation curves</h2><p class="muted">The curves appear after each trial's first epoch.</p></section>`;
  const last = Math.max(...trials.map((t) => curves[t.jobId].at(-1).epoch));
  const epochs = Array.from({ length: last }, (_, i) => i + 1);
  const series = trials.map((t) => {
    const byEpoch = new Map(curves[t.jobId].map((e) => [e.epoch, loss ? e.valLoss : e.valAccuracy]));
    return { label: `trial ${trialName(t)}`, values: epochs.map((e) => byEpoch.get(e) ?? null) };
  });
  return html`
    <section aria-labelledby="curves-title">
      <h2 id="curves-title">Validation curves</h2>
      <${EpochChart} title=${loss ? 'Validation loss' : 'Validation accuracy'} epochs=${epochs} series=${series} yRange=${loss ? undefined : [0, 1.04]}
        note=${`${trials.length} trial${trials.length === 1 ? '' : 's'}, up to epoch ${last}`} />
    </section>`;
}

export function SweepPage({ id }) {
  const [sweep, setSweep] = useState(null);
  const [curves, setCurves] = useState({}); // jobId -> epochs
  const [error, setError] = useState(null);
  const [generation, setGeneration] = useState(0); // bumped to re-read at once (after a cancel)
  const ended = useRef(new Map()); // jobId -> epochs of a trial read after it ended: they do not change any more

  usePolling(async (stopped) => {
    let s;
    try {
      s = await request(`/sweeps/${id}`);
    } catch (err) {
      setError(err);
      throw err;
    }
    if (stopped()) return s;
    setSweep(s);
    setError(null);
    const read = s.trials.filter((t) => t.status !== 'queued' && !ended.current.has(t.jobId)).map(async (t) => {
      const { epochs } = await request(`/jobs/${t.jobId}/metrics`);
      if (!active(t.status)) ended.current.set(t.jobId, epochs);
      return [t.jobId, epochs];
    });
    const fresh = (await Promise.allSettled(read)).filter((r) => r.status === 'fulfilled').map((r) => r.value);
    if (!stopped() && fresh.length) setCurves((c) => ({ ...c, ...Object.fromEntries(fresh) }));
    return s;
  }, followed, [id, generation]);

  if (error && !sweep) return html`<h1>Sweep</h1><p class="error" role="alert">${error.message}</p>`;
  if (!sweep) return html`<h1>Sweep</h1><p class="muted" role="status">Loading…</p>`;
  const { search } = sweep.spec;
  const best = sweep.best && sweep.trials.find((t) => t.jobId === sweep.best.jobId);

  async function cancel() {
    if (!confirm(`Cancel sweep ${sweep.id.slice(0, 8)} and all its unfinished trials?`)) return;
    try {
      await request(`/sweeps/${sweep.id}`, { method: 'DELETE' });
    } catch (err) {
      alert(err.message);
    }
    setGeneration((g) => g + 1);
  }

  return html`
    <div class="title-row">
      <h1>${methodNames[sweep.spec.method] ?? sweep.spec.method} sweep <span class="muted">· ${sweep.id.slice(0, 8)}</span></h1>
      <${StatusBadge} status=${sweep.status} />
    </div>
    <section class="job-head" aria-label="Status">
      <${TrialsDone} sweep=${sweep} />
      <p class="muted small">${[
        `${search.algorithm} search over ${Object.keys(search.space).join(', ')}`,
        `ranked by ${objectiveNames[sweep.objective]}`,
        `${search.parallelTrials} at once`,
        search.earlyStopping && `ASHA (grace ${search.earlyStopping.gracePeriod}, factor ${search.earlyStopping.reductionFactor})`,
        `submitted ${when(sweep.createdAt)}`,
        sweep.finishedAt && `took ${duration(sweep.createdAt, sweep.finishedAt)}`,
      ].filter(Boolean).join(' · ')}</p>
      ${error && html`<p class="error" role="alert">${error.message}</p>`}
      ${sweep.error && html`<p class="error" role="alert"><strong>${sweep.error.code}</strong>: ${sweep.error.message}</p>`}
      ${best && html`<p data-testid="sweep-best">${active(sweep.status) ? 'Best so far' : 'Best'}: trial ${trialName(best)} with ${objectiveNames[sweep.objective]} <strong>${score(sweep.objective, sweep.best.objective)}</strong></p>`}
      <div class="actions">
        ${!active(sweep.status) && best && html`<a class="button primary" href=${`#/jobs/${best.jobId}`}>Use the best model</a>`}
        ${active(sweep.status) && html`<button type="button" onClick=${cancel}>Cancel sweep</button>`}
      </div>
    </section>
    <${Leaderboard} sweep=${sweep} />
    <${TrialCurves} sweep=${sweep} curves=${curves} />`;
}

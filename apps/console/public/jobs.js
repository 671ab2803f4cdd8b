// Jobs: newest first, each with its status and a live progress bar while it is queued or running; cancel.
import { html, useEffect, useState } from './lib.js';
import { request } from './api.js';
import { duration, methodNames, when } from './format.js';
import { isActive, useLiveJob } from './job-stream.js';
import { knownDatasets } from './known-datasets.js';
import { Progress, StatusBadge, cancel } from './job-status.js';
import { ListPage } from './list-page.js';

const pageSize = 20;
// Event streams each hold a connection and a browser has about six per origin: the newest few active jobs are
// followed live, and while more are active the list itself is re-read.
const followed = 3;
const refreshMs = 2000;

function datasetName(ref) {
  if (!ref) return '';
  if (ref.url) return ref.url;
  return knownDatasets().find((d) => d.id === ref.id)?.filename ?? ref.id.slice(0, 8);
}

function JobRow({ initial, follow, onChanged }) {
  const job = useLiveJob(initial, undefined, follow);
  return html`
    <li class="job-row" data-status=${job.status}>
      <div class="job-main">
        <a href=${`#/jobs/${job.id}`} class="job-link">${methodNames[job.method] ?? job.method} <span class="muted">· ${job.id.slice(0, 8)}</span></a>
        <span class="muted small">data ${datasetName(job.spec?.dataset)} · submitted ${when(job.createdAt)}${job.startedAt ? ` · ran ${duration(job.startedAt, job.finishedAt)}` : ''}</span>
        ${job.error && html`<span class="error small">${job.error.message}</span>`}
      </div>
      <${StatusBadge} status=${job.status} />
      <${Progress} job=${job} />
      <div class="row-actions">
        ${isActive(job) && html`<button type="button" onClick=${() => cancel(job, onChanged)} aria-label=${`Cancel job ${job.id.slice(0, 8)}`}>Cancel</button>`}
      </div>
    </li>`;
}

export function JobsView() {
  const [page, setPage] = useState(0);
  const [list, setList] = useState(null);
  const [error, setError] = useState(null);
  const load = () => request(`/jobs?limit=${pageSize}&offset=${page * pageSize}`).then(setList, setError);
  useEffect(() => void load(), [page]);
  const active = list ? list.items.filter(isActive).map((j) => j.id) : [];
  const unfollowed = active.length > followed;
  useEffect(() => {
    if (!unfollowed) return;
    const timer = setInterval(load, refreshMs);
    return () => clearInterval(timer);
  }, [unfollowed, page]);

  return html`<${ListPage} title="Jobs" newLink=${{ href: '#/new', label: 'New job' }} list=${list} error=${error}
    empty=${html`No jobs yet. <a href="#/new">Start one</a>.`} page=${page} pageSize=${pageSize} onPage=${setPage}
    renderItem=${(j) => html`<${JobRow} key=${j.id} initial=${j} follow=${active.indexOf(j.id) < followed} onChanged=${load} />`} />`;
}

// A job's status badge and progress bar, the same in the list and on the job page.
import { html } from './lib.js';
import { request } from './api.js';
import { percent } from './format.js';

export const StatusBadge = ({ status }) => html`<span class=${`badge ${status}`}>${status}</span>`;

export function Progress({ job }) {
  const label = `${percent(job.progress)}${job.stage && job.status === 'running' ? ` · ${job.stage}` : ''}`;
  return html`
    <div class="progress">
      <progress max="1" value=${job.progress} aria-label=${`Progress of job ${job.id.slice(0, 8)}`} aria-valuetext=${label}></progress>
      <span class="progress-text" data-testid="progress-text">${label}</span>
    </div>`;
}

/** Asks, then DELETE /jobs/:id (a queued job ends at once, a running one at its next batch); done() after. */
export async function cancel(job, done) {
  if (!confirm(`Cancel job ${job.id.slice(0, 8)}?`)) return;
  try {
    await request(`/jobs/${job.id}`, { method: 'DELETE' });
  } catch (err) {
    alert(err.message);
  }
  done?.();
}

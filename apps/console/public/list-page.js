// A paged list view (jobs, sweeps): its title and "new" button, loading / error / empty states, the items
// and the pager.
import { html } from './lib.js';

/** list: a GET /jobs-style page ({ items, total }) or null while loading; renderItem(item) gives one <li>. */
export function ListPage({ title, newLink, list, error, empty, renderItem, page, pageSize, onPage }) {
  return html`
    <div class="title-row">
      <h1>${title}</h1>
      <a class="button primary" href=${newLink.href}>${newLink.label}</a>
    </div>
    ${error && html`<p class="error" role="alert">${error.message}</p>`}
    ${list === null && !error && html`<p class="muted" role="status">Loading…</p>`}
    ${list && list.items.length === 0 && html`<p class="muted">${empty}</p>`}
    ${list && list.items.length > 0 && html`
      <ul class="job-list" aria-label=${title}>${list.items.map(renderItem)}</ul>
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled=${page === 0} onClick=${() => onPage(page - 1)}>Newer</button>
        <span>${page * pageSize + 1}–${page * pageSize + list.items.length} of ${list.total}</span>
        <button type="button" disabled=${(page + 1) * pageSize >= list.total} onClick=${() => onPage(page + 1)}>Older</button>
      </nav>`}`;
}

// Datasets: upload an archive (drag-and-drop or pick, with a progress bar), then see what a job would find
// in it (GET /datasets/:id/summary): classes, images per class, skipped files and why.
import { html, useEffect, useState } from './lib.js';
import { request, upload } from './api.js';
import { DropZone } from './drop-zone.js';
import { bytes, when } from './format.js';
import { forgetDataset, knownDatasets, rememberDataset } from './known-datasets.js';

const archiveTypes = '.zip,.tar,.tgz,.tar.gz,application/zip,application/gzip,application/x-tar';

function Summary({ id }) {
  const [state, setState] = useState({ loading: true });
  useEffect(() => {
    let live = true;
    request(`/datasets/${id}/summary`).then(
      (summary) => live && setState({ summary }),
      (error) => live && setState({ error }),
    );
    return () => (live = false);
  }, [id]);
  if (state.loading) return html`<p class="muted" role="status">Reading the archive…</p>`;
  if (state.error) return html`<p class="error" role="alert">${state.error.message}</p>`;
  const { images, unlabelled, classes, skipped } = state.summary;
  return html`
    <p class="summary-line" data-testid="dataset-summary">
      ${images} image${images === 1 ? '' : 's'} in ${classes.length} class${classes.length === 1 ? '' : 'es'}
      ${unlabelled ? `, ${unlabelled} without a class` : ''}${skipped.length ? `, ${skipped.length} skipped` : ''}
    </p>
    ${classes.length > 0 && html`
      <table class="compact">
        <caption class="sr-only">Images per class</caption>
        <thead><tr><th scope="col">Class</th><th scope="col" class="num">Images</th></tr></thead>
        <tbody>${classes.map((c) => html`<tr><td>${c.label}</td><td class="num">${c.images}</td></tr>`)}</tbody>
      </table>`}
    ${skipped.length > 0 && html`
      <details>
        <summary>${skipped.length} skipped file${skipped.length === 1 ? '' : 's'}</summary>
        <ul class="skipped">${skipped.slice(0, 200).map((s) => html`<li><code>${s.entry}</code>: ${s.reason}</li>`)}</ul>
        ${skipped.length > 200 && html`<p class="muted">…and ${skipped.length - 200} more.</p>`}
      </details>`}`;
}

function DatasetCard({ dataset, onForget }) {
  return html`
    <article class="card" aria-labelledby=${`ds-${dataset.id}`}>
      <header class="card-head">
        <h3 id=${`ds-${dataset.id}`}>${dataset.filename}</h3>
        <span class="muted">${bytes(dataset.sizeBytes)} · ${when(dataset.createdAt)}</span>
      </header>
      <${Summary} id=${dataset.id} />
      <div class="actions">
        <a class="button primary" href=${`#/new?dataset=${dataset.id}`}>Train on this</a>
        <button type="button" onClick=${onForget} aria-label=${`Remove ${dataset.filename} from this list`}>Remove from list</button>
      </div>
      <p class="muted small">id <code>${dataset.id}</code></p>
    </article>`;
}

export function DatasetsView() {
  const [datasets, setDatasets] = useState(knownDatasets);
  const [progress, setProgress] = useState(null); // { name, fraction } while uploading
  const [error, setError] = useState(null);

  async function send(files) {
    setError(null);
    for (const file of files) {
      setProgress({ name: file.name, fraction: 0 });
      const form = new FormData();
      form.append('file', file, file.name);
      try {
        const view = await upload('/datasets', form, (fraction) => setProgress({ name: file.name, fraction }));
        rememberDataset(view);
        setDatasets(knownDatasets());
      } catch (err) {
        setError(`${file.name}: ${err.message}`);
      }
    }
    setProgress(null);
  }

  return html`
    <h1>Datasets</h1>
    <p class="lead">An archive (zip, tar or tar.gz) with one folder per class (<code>cat/001.jpg</code>, <code>dog/002.jpg</code>), or any layout with a <code>labels.csv</code> of <code>path,label</code> lines.</p>
    <${DropZone} id="dataset-file" accept=${archiveTypes} multiple disabled=${progress !== null} onFiles=${send}>
      <strong>Drop an archive here</strong> or <span class="link">choose a file</span>
    </${DropZone}>
    ${progress && html`
      <div class="upload" role="status">
        <label for="upload-progress">Uploading ${progress.name}: ${Math.round(progress.fraction * 100)} %</label>
        <progress id="upload-progress" max="1" value=${progress.fraction}></progress>
      </div>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <h2>Uploaded from this browser</h2>
    ${datasets.length === 0
      ? html`<p class="muted">None yet.</p>`
      : html`<div class="cards">${datasets.map((d) => html`<${DatasetCard} key=${d.id} dataset=${d} onForget=${() => { forgetDataset(d.id); setDatasets(knownDatasets()); }} />`)}</div>`}`;
}

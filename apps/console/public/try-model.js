// "Try it": images dropped here go to POST /predict with the job's model; each comes back with its top labels.
import { html, useEffect, useState } from './lib.js';
import { request } from './api.js';
import { DropZone } from './drop-zone.js';
import { percent } from './format.js';

export function TryModel({ jobId, classCount }) {
  // the service refuses a topK above the model's class count
  const topK = Math.min(3, classCount ?? 3);
  const [results, setResults] = useState([]); // [{ name, url, labels }]
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  useEffect(() => () => results.forEach((r) => URL.revokeObjectURL(r.url)), [results]);

  async function predict(files) {
    setError(null);
    setBusy(true);
    const form = new FormData();
    form.append('jobId', jobId);
    form.append('topK', String(topK));
    for (const f of files) form.append('image', f, f.name);
    try {
      const { predictions } = await request('/predict', { method: 'POST', form });
      setResults(files.map((f, i) => ({ name: f.name, url: URL.createObjectURL(f), labels: predictions[i].topK })));
    } catch (err) {
      setError(err.message);
    }
    setBusy(false);
  }

  return html`
    <section aria-labelledby="try-title">
      <h2 id="try-title">Try it</h2>
      <${DropZone} id="predict-files" accept="image/*" multiple disabled=${busy} onFiles=${predict}>
        <strong>Drop images here</strong> or <span class="link">choose files</span> to see the model's top ${topK} labels
      </${DropZone}>
      ${busy && html`<p class="muted" role="status">Predicting…</p>`}
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <ul class="predictions" aria-live="polite">
        ${results.map((r) => html`
          <li class="prediction" data-testid="prediction">
            <img src=${r.url} alt=${r.name} width="72" height="72" />
            <div>
              <p class="small"><strong>${r.name}</strong></p>
              <ol class="labels">
                ${r.labels.map((l) => html`
                  <li><span class="label-name">${l.label}</span>
                    <span class="bar" aria-hidden="true"><span style=${`width: ${Math.round(l.score * 100)}%`}></span></span>
                    <span class="score">${percent(l.score, 1)}</span></li>`)}
              </ol>
            </div>
          </li>`)}
      </ul>
    </section>`;
}

// The console's shell: header navigation, the key dialog and a hash router over the views.
import { html, render, useEffect, useState } from './lib.js';
import { apiKey, onUnauthorized } from './api.js';
import { KeyDialog } from './key-dialog.js';
import { DatasetsView } from './datasets.js';
import { NewJobView } from './new-job.js';
import { JobsView } from './jobs.js';
import { JobPage } from './job-page.js';
import { SweepPage, SweepsView } from './sweeps.js';

function parseRoute() {
  const [path, query = ''] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean);
  return { parts, query: new URLSearchParams(query) };
}

function useRoute() {
  const [route, setRoute] = useState(parseRoute);
  useEffect(() => {
    const update = () => setRoute(parseRoute());
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}

const nav = [
  ['datasets', 'Datasets'],
  ['new', 'New job'],
  ['jobs', 'Jobs'],
  ['sweeps', 'Sweeps'],
];

function App() {
  const { parts, query } = useRoute();
  const [keyPrompt, setKeyPrompt] = useState(null); // null = closed, else the reason shown
  // Views re-read the API after a new key is saved.
  const [generation, setGeneration] = useState(0);
  useEffect(() => onUnauthorized((err) => setKeyPrompt(err.message || 'The service needs an API key.')), []);

  const section = parts[0] ?? 'datasets';
  useEffect(() => {
    document.title = `${nav.find(([id]) => id === section)?.[1] ?? 'Job'} · Graft console`;
  }, [section]);

  let view;
  if (section === 'jobs' && parts[1]) view = html`<${JobPage} id=${parts[1]} />`;
  else if (section === 'jobs') view = html`<${JobsView} />`;
  else if (section === 'sweeps' && parts[1]) view = html`<${SweepPage} key=${parts[1]} id=${parts[1]} />`;
  else if (section === 'sweeps') view = html`<${SweepsView} />`;
  else if (section === 'new') view = html`<${NewJobView} preset=${query.get('dataset')} search=${query.has('search')} />`;
  else view = html`<${DatasetsView} />`;

  return html`
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main').focus(); }}>Skip to content</a>
    <header class="top">
      <a class="brand" href="#/datasets">Graft</a>
      <nav aria-label="Sections">
        ${nav.map(([id, label]) => html`<a href=${`#/${id}`} aria-current=${section === id ? 'page' : undefined}>${label}</a>`)}
      </nav>
      <button type="button" class="key-button" onClick=${() => setKeyPrompt('')}>${apiKey.get() ? 'API key ✓' : 'API key'}</button>
    </header>
    <main id="main" tabindex="-1" key=${generation}>${view}</main>
    <${KeyDialog}
      open=${keyPrompt !== null}
      reason=${keyPrompt}
      onClose=${(saved) => {
        setKeyPrompt(null);
        if (saved) setGeneration((g) => g + 1);
      }}
    />`;
}

render(html`<${App} />`, document.getElementById('app'));

// New job: the method (with when each fits), the dataset(s), an optional backbone and the main knobs with
// the service's defaults filled in. Only the knobs a user changes are sent; errors appear by the field the API names.
import { html, useEffect, useState } from './lib.js';
import { request } from './api.js';
import { knownDatasets } from './known-datasets.js';
import { methodNames } from './format.js';

const methods = [
  ['fine_tune', 'You have labelled images of your own classes: a new head learns them while the last backbone blocks adapt gently. The usual choice.'],
  ['feature_extraction', 'Few images, or you want a model in minutes: the backbone stays frozen and a logistic regression (or linear SVM) learns from its features.'],
  ['multi_task', 'You also have a related labelled dataset (the source): both tasks train on one shared backbone, which helps when your own data is scarce.'],
  ['domain_adaptation', 'Your images have no labels but resemble a labelled source set from another domain (renders vs. photos): DANN learns features that carry over.'],
];

const datasetLabel = {
  fine_tune: 'Training data (labelled)',
  feature_extraction: 'Training data (labelled)',
  multi_task: 'Target task data (labelled)',
  domain_adaptation: 'Target domain data (no labels needed)',
};

// Which knobs apply to which method, in the order shown.
const knobs = [
  { name: 'epochs', label: 'Epochs', type: 'int' },
  { name: 'imageSize', label: 'Image size (px)', type: 'int' },
  { name: 'batchSize', label: 'Batch size', type: 'int' },
  { name: 'learningRate', label: 'Learning rate', type: 'number', step: 'any', skip: ['feature_extraction'] },
  { name: 'trainableBlocks', label: 'Trainable backbone blocks', type: 'blocks', skip: ['feature_extraction'] },
  { name: 'validationSplit', label: 'Validation split', type: 'number', step: '0.05' },
  { name: 'classifier', label: 'Classifier', type: 'choice', choices: ['logistic', 'svm'], only: ['feature_extraction'] },
  { name: 'lambda', label: 'Lambda', type: 'number', step: 'any', only: ['multi_task', 'domain_adaptation'] },
  { name: 'augment', label: 'Augment images (flips, crops, brightness)', type: 'bool', skip: ['feature_extraction'] },
];
const applies = (k, method) => (!k.only || k.only.includes(method)) && !(k.skip ?? []).includes(method);

function parseKnob(k, raw) {
  if (k.type === 'bool' || k.type === 'choice') return raw;
  if (k.type === 'blocks' && raw.trim() === 'all') return 'all';
  const n = Number(raw);
  return raw.trim() === '' || Number.isNaN(n) ? raw : n; // the API names what is wrong with text
}

/** The form field an API error is about ("hyperparameters.epochs" -> "epochs", "source.id" -> "source"). */
function fieldOf(apiField) {
  if (!apiField) return 'form';
  const [head, sub] = apiField.replace(/^\//, '').split(/[./]/);
  return head === 'hyperparameters' && sub ? sub : head;
}

function FieldError({ errors, name }) {
  return errors[name] ? html`<p class="field-error" id=${`${name}-error`} role="alert">${errors[name]}</p>` : null;
}
const describedBy = (errors, name, hint) => [hint, errors[name] && `${name}-error`].filter(Boolean).join(' ') || undefined;

// The select's value for "give a URL instead of an upload".
const byUrl = 'url';

/** An uploaded dataset or a URL; `value` is { choice: id | 'url', url }. */
function DatasetPicker({ name, label, datasets, value, onChange, errors }) {
  return html`
    <div class="field">
      <label for=${name}>${label}</label>
      <select id=${name} value=${value.choice} onChange=${(e) => onChange({ ...value, choice: e.currentTarget.value })}
        aria-invalid=${errors[name] && value.choice !== byUrl ? 'true' : undefined} aria-describedby=${value.choice !== byUrl ? describedBy(errors, name) : undefined}>
        <option value="">Choose an uploaded dataset…</option>
        ${datasets.map((d) => html`<option value=${d.id}>${d.filename} (${d.id.slice(0, 8)})</option>`)}
        <option value=${byUrl}>An archive at a URL…</option>
      </select>
      ${value.choice === byUrl && html`
        <label for=${`${name}-url`} class="sub-label">URL of the archive</label>
        <input id=${`${name}-url`} type="url" inputmode="url" placeholder="https://…, s3://bucket/key or file://…" value=${value.url}
          onInput=${(e) => onChange({ ...value, url: e.currentTarget.value })}
          aria-invalid=${errors[name] ? 'true' : undefined} aria-describedby=${describedBy(errors, name)} />`}
      <${FieldError} errors=${errors} name=${name} />
    </div>`;
}

const refOf = (v) => (v.choice === byUrl ? (v.url.trim() ? { url: v.url.trim() } : null) : v.choice ? { id: v.choice } : null);

export function NewJobView({ preset }) {
  const datasets = knownDatasets();
  const [method, setMethod] = useState('fine_tune');
  const [dataset, setDataset] = useState({ choice: preset ?? datasets[0]?.id ?? '', url: '' });
  const [source, setSource] = useState({ choice: '', url: '' });
  const [backbones, setBackbones] = useState([]);
  const [backbone, setBackbone] = useState('');
  const [defaults, setDefaults] = useState(null);
  const [docs, setDocs] = useState({});
  const [edits, setEdits] = useState({});
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    request('/backbones').then((b) => setBackbones(b.items), (err) => setErrors({ form: err.message }));
    request('/console/defaults.json').then(setDefaults, () => setDefaults({}));
    // Ranges and explanations of the knobs, from the API's own schema.
    request('/openapi.json').then((d) => setDocs(d.components?.schemas?.Hyperparameters?.properties ?? {}), () => undefined);
  }, []);

  const backboneId = backbone || backbones[0]?.id;
  const base = defaults?.[backboneId]?.[method] ?? {};
  const needsSource = method === 'multi_task' || method === 'domain_adaptation';
  const valueOf = (k) => edits[k.name] ?? (base[k.name] === undefined ? '' : String(base[k.name]));

  async function submit(e) {
    e.preventDefault();
    const problems = {};
    if (!refOf(dataset)) problems.dataset = 'Choose the dataset to train on (upload one under Datasets) or give its URL.';
    if (needsSource && !refOf(source)) problems.source = 'This method needs a labelled source dataset.';
    setErrors(problems);
    if (Object.keys(problems).length) return;
    const hyperparameters = {};
    for (const k of knobs) if (applies(k, method) && edits[k.name] !== undefined) hyperparameters[k.name] = parseKnob(k, edits[k.name]);
    const spec = { method, dataset: refOf(dataset) };
    if (needsSource) spec.source = refOf(source);
    if (backbone) spec.backbone = backbone;
    if (Object.keys(hyperparameters).length) spec.hyperparameters = hyperparameters;
    setBusy(true);
    try {
      const job = await request('/jobs', { method: 'POST', json: spec });
      location.hash = `#/jobs/${job.id}`;
    } catch (err) {
      const field = fieldOf(err.field);
      const known = field === 'method' || field === 'dataset' || field === 'source' || field === 'backbone' || knobs.some((k) => k.name === field);
      setErrors({ [known ? field : 'form']: err.message });
      setBusy(false);
    }
  }

  const knob = (k) => {
    const id = `hp-${k.name}`;
    const doc = docs[k.name] ?? {};
    const hint = doc.description ? `${id}-hint` : undefined;
    const set = (v) => setEdits({ ...edits, [k.name]: v });
    const common = { id, 'aria-invalid': errors[k.name] ? 'true' : undefined, 'aria-describedby': describedBy(errors, k.name, hint) };
    let input;
    if (k.type === 'bool') {
      return html`
        <div class="field check">
          <input type="checkbox" ...${common} checked=${valueOf(k) === 'true' || valueOf(k) === true} onChange=${(e) => set(e.currentTarget.checked)} />
          <label for=${id}>${k.label}</label>
          <${FieldError} errors=${errors} name=${k.name} />
        </div>`;
    }
    if (k.type === 'choice') {
      input = html`<select ...${common} value=${valueOf(k)} onChange=${(e) => set(e.currentTarget.value)}>${k.choices.map((c) => html`<option value=${c}>${c}</option>`)}</select>`;
    } else {
      const numeric = k.type !== 'blocks';
      input = html`<input ...${common} type=${numeric ? 'number' : 'text'} inputmode=${numeric ? 'decimal' : undefined}
        min=${doc.minimum ?? doc.exclusiveMinimum} max=${doc.maximum} step=${k.step ?? (k.type === 'int' ? '1' : undefined)}
        value=${valueOf(k)} onInput=${(e) => set(e.currentTarget.value)} />`;
    }
    return html`
      <div class="field">
        <label for=${id}>${k.label}</label>
        ${input}
        ${hint && html`<p class="hint" id=${hint}>${doc.description}</p>`}
        <${FieldError} errors=${errors} name=${k.name} />
      </div>`;
  };

  return html`
    <h1>New job</h1>
    <form class="job-form" onSubmit=${submit} novalidate>
      ${errors.form && html`<p class="error" role="alert">${errors.form}</p>`}
      <fieldset class="methods">
        <legend>Method</legend>
        ${methods.map(([id, when]) => html`
          <div class=${`method${method === id ? ' chosen' : ''}`}>
            <input type="radio" name="method" id=${`method-${id}`} value=${id} checked=${method === id}
              aria-describedby=${`method-${id}-when`} onChange=${() => { setMethod(id); setEdits({}); }} />
            <label for=${`method-${id}`}>${methodNames[id]}</label>
            <p class="hint" id=${`method-${id}-when`}>${when}</p>
          </div>`)}
        <${FieldError} errors=${errors} name="method" />
      </fieldset>

      <fieldset>
        <legend>Data</legend>
        ${datasets.length === 0 && html`<p class="muted">No uploads in this browser yet: <a href="#/datasets">upload one</a>, or give an archive's URL.</p>`}
        <${DatasetPicker} name="dataset" label=${datasetLabel[method]} datasets=${datasets} value=${dataset} onChange=${setDataset} errors=${errors} />
        ${needsSource && html`<${DatasetPicker} name="source" label="Source domain data (labelled)" datasets=${datasets} value=${source} onChange=${setSource} errors=${errors} />`}
      </fieldset>

      <fieldset>
        <legend>Model</legend>
        <div class="field">
          <label for="backbone">Backbone</label>
          <select id="backbone" value=${backbone} onChange=${(e) => { setBackbone(e.currentTarget.value); setEdits({}); }}
            aria-invalid=${errors.backbone ? 'true' : undefined} aria-describedby=${describedBy(errors, 'backbone')}>
            ${backbones.map((b, i) => html`<option value=${i === 0 ? '' : b.id}>${b.name}${i === 0 ? ' (default)' : ''}</option>`)}
          </select>
          <${FieldError} errors=${errors} name="backbone" />
        </div>
        <div class="knobs">${knobs.filter((k) => applies(k, method)).map(knob)}</div>
        <p class="muted small">Values shown are the service's defaults for this method and backbone; only the ones you change are sent.</p>
      </fieldset>
      <div class="actions">
        <button type="submit" class="primary" disabled=${busy}>${busy ? 'Submitting…' : 'Start training'}</button>
      </div>
    </form>`;
}

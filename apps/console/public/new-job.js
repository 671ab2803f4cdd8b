// New job: the method (with when each fits), the dataset(s), an optional backbone and the main knobs with
// the service's defaults filled in. Only the knobs a user changes are sent; errors appear by the field the API names.
// "Search hyper-parameters" turns the form into a sweep's (POST /sweeps): the knobs ticked "search" are its space.
import { html, useEffect, useState } from './lib.js';
import { request } from './api.js';
import { knownDatasets } from './known-datasets.js';
import { methodNames } from './format.js';
import { Field, FieldError, describedBy, parseValue } from './form-fields.js';
import { SearchSettings, searchFields, searchOf, settingsWith, spaceEntry, suggestion } from './sweep-search.js';

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

/**
 * The form field an API error is about: "hyperparameters.epochs" -> "epochs", "source.id" -> "source",
 * "search.space.learningRate.1" -> "learningRate", "search.earlyStopping.gracePeriod" -> "gracePeriod".
 */
function fieldOf(apiField) {
  if (!apiField) return 'form';
  const [head, sub, name] = apiField.replace(/^\//, '').split(/[./]/);
  if (head === 'search') return (sub === 'space' || sub === 'earlyStopping') && name ? name : sub ?? 'form';
  return head === 'hyperparameters' && sub ? sub : head;
}
const formFields = new Set(['method', 'dataset', 'source', 'backbone', 'space', ...knobs.map((k) => k.name), ...searchFields.map((k) => k.name)]);

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

export function NewJobView({ preset, search: presetSearch = false }) {
  const datasets = knownDatasets();
  const [method, setMethod] = useState('fine_tune');
  const [dataset, setDataset] = useState({ choice: preset ?? datasets[0]?.id ?? '', url: '' });
  const [source, setSource] = useState({ choice: '', url: '' });
  const [backbones, setBackbones] = useState([]);
  const [backbone, setBackbone] = useState('');
  const [defaults, setDefaults] = useState(null);
  const [docs, setDocs] = useState({ knobs: {}, search: {} });
  const [edits, setEdits] = useState({});
  const [search, setSearch] = useState(presetSearch);
  const [searched, setSearched] = useState({}); // knob name -> the values to try, as typed
  const [searchEdits, setSearchEdits] = useState({});
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    request('/backbones').then((b) => setBackbones(b.items), (err) => setErrors({ form: err.message }));
    request('/console/defaults.json').then(setDefaults, () => setDefaults({}));
    // Ranges and explanations of the knobs, from the API's own schema.
    request('/openapi.json').then(({ components: { schemas } = {} }) => {
      const sweep = schemas?.SweepSpec?.properties?.search?.properties ?? {};
      setDocs({
        knobs: schemas?.Hyperparameters?.properties ?? {},
        search: { ...sweep, ...sweep.earlyStopping?.properties, objective: schemas?.SweepObjective, earlyStopping: sweep.earlyStopping },
      });
    }, () => undefined);
  }, []);

  const backboneId = backbone || backbones[0]?.id;
  const needsSource = method === 'multi_task' || method === 'domain_adaptation';
  // What a job on the chosen uploads would use, chosen from their images and labels (POST /jobs/preview);
  // until an upload is chosen, the service's static defaults stand in.
  const [preview, setPreview] = useState(null);
  const dataRef = refOf(dataset);
  const sourceRef = needsSource ? refOf(source) : null;
  const previewKey = JSON.stringify([method, dataRef, sourceRef, backbone]);
  useEffect(() => {
    setPreview(null);
    if (!dataRef?.id || (needsSource && !sourceRef?.id)) return undefined;
    let live = true;
    const spec = { method, dataset: dataRef, ...(sourceRef ? { source: sourceRef } : {}), ...(backbone ? { backbone } : {}) };
    request('/jobs/preview', { method: 'POST', json: spec }).then((p) => live && setPreview(p.resolvedHyperparameters), () => undefined);
    return () => {
      live = false;
    };
  }, [previewKey]);
  const chosen = preview ?? {};
  const base = { ...(defaults?.[backboneId]?.[method] ?? {}), ...Object.fromEntries(Object.entries(chosen).map(([k, c]) => [k, c.value])) };
  const valueOf = (k) => edits[k.name] ?? (base[k.name] === undefined ? '' : String(base[k.name]));
  const shownKnobs = knobs.filter((k) => applies(k, method));
  const isSearched = (k) => search && searched[k.name] !== undefined;
  const space = Object.fromEntries(shownKnobs.filter(isSearched).map((k) => [k.name, spaceEntry(k, searched[k.name])]));
  const settings = settingsWith(searchEdits, space);
  const resetKnobs = () => {
    setEdits({});
    setSearched({});
  };

  async function submit(e) {
    e.preventDefault();
    const problems = {};
    if (!refOf(dataset)) problems.dataset = 'Choose the dataset to train on (upload one under Datasets) or give its URL.';
    if (needsSource && !refOf(source)) problems.source = 'This method needs a labelled source dataset.';
    if (search && !Object.keys(space).length) problems.space = 'Tick "search" on at least one field to search it.';
    setErrors(problems);
    if (Object.keys(problems).length) return;
    const hyperparameters = {};
    for (const k of shownKnobs) if (!isSearched(k) && edits[k.name] !== undefined) hyperparameters[k.name] = parseValue(k, edits[k.name]);
    const spec = { method, dataset: refOf(dataset) };
    if (needsSource) spec.source = refOf(source);
    if (backbone) spec.backbone = backbone;
    if (Object.keys(hyperparameters).length) spec.hyperparameters = hyperparameters;
    if (search) spec.search = searchOf(settings, space);
    setBusy(true);
    try {
      const created = await request(search ? '/sweeps' : '/jobs', { method: 'POST', json: spec });
      location.hash = `#/${search ? 'sweeps' : 'jobs'}/${created.id}`;
    } catch (err) {
      const field = fieldOf(err.field);
      setErrors({ [formFields.has(field) ? field : 'form']: err.message });
      setBusy(false);
    }
  }

  const knob = (k) => html`
    <${Field} key=${k.name} k=${k} doc=${docs.knobs[k.name]} errors=${errors} why=${edits[k.name] === undefined ? chosen[k.name]?.why : undefined}
      value=${isSearched(k) ? searched[k.name] : valueOf(k)}
      onChange=${(v) => (isSearched(k) ? setSearched({ ...searched, [k.name]: v }) : setEdits({ ...edits, [k.name]: v }))}
      search=${search ? { on: isSearched(k), toggle: () => toggleSearch(k) } : undefined} />`;
  const toggleSearch = (k) => {
    const { [k.name]: was, ...rest } = searched;
    setSearched(was === undefined ? { ...searched, [k.name]: suggestion(k, base[k.name]) } : rest);
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
              aria-describedby=${`method-${id}-when`} onChange=${() => { setMethod(id); resetKnobs(); }} />
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
          <select id="backbone" value=${backbone} onChange=${(e) => { setBackbone(e.currentTarget.value); resetKnobs(); }}
            aria-invalid=${errors.backbone ? 'true' : undefined} aria-describedby=${describedBy(errors, 'backbone')}>
            ${backbones.map((b, i) => html`<option value=${i === 0 ? '' : b.id}>${b.name}${i === 0 ? ' (default)' : ''}</option>`)}
          </select>
          <${FieldError} errors=${errors} name="backbone" />
        </div>
        <div class="field check">
          <input type="checkbox" id="search" checked=${search} onChange=${(e) => setSearch(e.currentTarget.checked)} aria-describedby="search-hint" />
          <label for="search">Search hyper-parameters</label>
          <p class="hint" id="search-hint">Run several trials with different values (a sweep) and keep the best model.</p>
        </div>
        <div class="knobs">${shownKnobs.map(knob)}</div>
        <p class="muted small" data-testid="defaults-note">${preview
          ? 'Values shown are what a job on this data would use, chosen from its images and labels; only the ones you change are sent.'
          : "Values shown are the service's defaults for this method and backbone (choose an upload to see what its data changes); only the ones you change are sent."}</p>
      </fieldset>
      ${search && html`<${SearchSettings} settings=${settings} onChange=${setSearchEdits} errors=${errors} docs=${docs.search} />`}
      <div class="actions">
        <button type="submit" class="primary" disabled=${busy}>${busy ? 'Submitting…' : search ? 'Start sweep' : 'Start training'}</button>
      </div>
    </form>`;
}

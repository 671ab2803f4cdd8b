// "Search hyper-parameters" on the new-job form: the fields ticked "search" become the sweep's space (lists, or
// random search's min .. max [log] ranges) and these settings its search; the form then POSTs /sweeps.
import { html } from './lib.js';
import { Field, FieldError, parseValue } from './form-fields.js';

export const searchFields = [
  { name: 'algorithm', label: 'Search', type: 'choice', choices: ['grid', 'random'] },
  { name: 'maxTrials', label: 'Trials (at most)', type: 'int' },
  { name: 'parallelTrials', label: 'Trials at once', type: 'int' },
  { name: 'objective', label: 'Rank trials by', type: 'choice', choices: ['valAccuracy', 'valLoss', 'macroF1'] },
  { name: 'earlyStopping', label: 'Stop poor trials early (ASHA)', type: 'bool' },
  { name: 'gracePeriod', label: 'Grace period (epochs)', type: 'int', asha: true },
  { name: 'reductionFactor', label: 'Reduction factor', type: 'int', asha: true },
];
const defaults = { algorithm: 'grid', parallelTrials: '2', objective: 'valAccuracy', earlyStopping: false, gracePeriod: '1', reductionFactor: '3' };

const range = /^\s*([^\s,]+)\s*\.\.\s*([^\s,]+)\s*(log|linear)?\s*$/i;

/** A searched field's text as a space entry: "a .. b [log]" a range, otherwise a comma-separated list. */
export function spaceEntry(k, text) {
  const r = range.exec(text);
  if (r) {
    const [min, max] = [r[1], r[2]].map((v) => parseValue(k, v));
    return r[3] ? { min, max, scale: r[3].toLowerCase() } : { min, max };
  }
  return text.split(',').map((v) => v.trim()).filter(Boolean).map((v) => parseValue(k, v));
}

/** What a field's search starts from: every choice, a spread around the default, or the default itself. */
export function suggestion(k, defaultValue) {
  if (k.type === 'bool') return 'true, false';
  if (k.type === 'choice') return k.choices.join(', ');
  if (k.type === 'blocks') return '1, 2, 4';
  if (k.name === 'learningRate' && typeof defaultValue === 'number') return [defaultValue / 3, defaultValue, defaultValue * 3].map((v) => Number(v.toPrecision(2))).join(', ');
  return defaultValue === undefined ? '' : String(defaultValue);
}

/** How many trials a search runs: a grid's points (at most maxTrials), or maxTrials draws. */
export function plannedTrials({ algorithm, maxTrials, space }) {
  return algorithm === 'grid' ? Math.min(maxTrials, gridPoints(space)) : maxTrials;
}
const gridPoints = (space) => Object.values(space).reduce((n, v) => n * (Array.isArray(v) ? v.length : 1), 1);

/** The search settings, their defaults filled in (a grid's trials default to its size). */
export function settingsWith(edits, space) {
  const grid = (edits.algorithm ?? defaults.algorithm) === 'grid';
  return { ...defaults, maxTrials: String(grid ? Math.min(100, gridPoints(space)) : 10), ...edits };
}

/** The `search` of POST /sweeps. */
export function searchOf(settings, space) {
  const value = (name) => parseValue(searchFields.find((f) => f.name === name), settings[name]);
  const search = { algorithm: value('algorithm'), maxTrials: value('maxTrials'), parallelTrials: value('parallelTrials'), objective: value('objective'), space };
  if (settings.earlyStopping) search.earlyStopping = { type: 'asha', gracePeriod: value('gracePeriod'), reductionFactor: value('reductionFactor') };
  return search;
}

/** The settings' fields; docs: the API schema's descriptions by name. */
export function SearchSettings({ settings, onChange, errors, docs }) {
  const shown = searchFields.filter((f) => !f.asha || settings.earlyStopping);
  return html`
    <fieldset class="search-settings">
      <legend>Hyper-parameter search</legend>
      <p class="hint">Tick <strong>search</strong> on the fields above to try several values; each trial is an ordinary job, and the sweep ends with the best one.</p>
      <${FieldError} errors=${errors} name="space" />
      <div class="knobs">
        ${shown.map((k) => html`<${Field} key=${k.name} k=${k} idPrefix="search" value=${settings[k.name]} doc=${docs[k.name]} errors=${errors}
          onChange=${(v) => onChange({ ...settings, [k.name]: v })} />`)}
      </div>
    </fieldset>`;
}

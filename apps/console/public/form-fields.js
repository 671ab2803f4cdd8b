// The new-job form's fields: one labelled input, checkbox or select per setting, its hint from the API's own
// schema and the API's error beside it. A field a sweep can search offers a "search" tick; ticked, it takes
// the values to try as text (see sweep-search.js).
import { html } from './lib.js';

export function FieldError({ errors, name }) {
  return errors[name] ? html`<p class="field-error" id=${`${name}-error`} role="alert">${errors[name]}</p>` : null;
}
export const describedBy = (errors, name, hint) => [hint, errors[name] && `${name}-error`].filter(Boolean).join(' ') || undefined;

/** A field's text as the API wants it: numbers as numbers, 'all' blocks, true/false; text the API cannot read stays text, so it names the problem. */
export function parseValue(k, raw) {
  if (typeof raw === 'boolean' || k.type === 'choice') return raw;
  const text = raw.trim();
  if (k.type === 'bool') return text === 'true' ? true : text === 'false' ? false : text;
  if (k.type === 'blocks' && text === 'all') return 'all';
  const n = Number(text);
  return text === '' || Number.isNaN(n) ? text : n;
}

const searchHint = 'Values to try, comma-separated (1, 2, 4); random search also takes a range: 0.0001 .. 0.003 log.';

/**
 * k: { name, label, type: 'int' | 'number' | 'blocks' | 'choice' | 'bool', choices?, step? }; value: its text (a
 * boolean for a checkbox). search: { on, toggle } when the field may be searched. why: the reason for a default.
 */
export function Field({ k, value, onChange, doc = {}, errors, search, why, idPrefix = 'hp' }) {
  const id = `${idPrefix}-${k.name}`;
  const searching = search?.on;
  // why: the reason the service gives for the value it would use (a job preview), shown until the user edits it
  const hintText = searching ? searchHint : why ? `${why}. ${doc.description ?? ''}`.trim() : doc.description;
  const hint = hintText ? `${id}-hint` : undefined;
  const common = { id, 'aria-invalid': errors[k.name] ? 'true' : undefined, 'aria-describedby': describedBy(errors, k.name, hint) };
  const toggle = search && html`
    <label class="vary"><input type="checkbox" checked=${searching} aria-label=${`Search ${k.label.toLowerCase()}`} onChange=${search.toggle} /><span aria-hidden="true">search</span></label>`;
  if (k.type === 'bool' && !searching) {
    return html`
      <div class="field check">
        <input type="checkbox" ...${common} checked=${value === 'true' || value === true} onChange=${(e) => onChange(e.currentTarget.checked)} />
        <label for=${id}>${k.label}</label>
        ${toggle}
        <${FieldError} errors=${errors} name=${k.name} />
      </div>`;
  }
  let input;
  if (k.type === 'choice' && !searching) {
    input = html`<select ...${common} value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>${k.choices.map((c) => html`<option value=${c}>${c}</option>`)}</select>`;
  } else {
    const numeric = !searching && (k.type === 'int' || k.type === 'number');
    input = html`<input ...${common} type=${numeric ? 'number' : 'text'} inputmode=${numeric ? 'decimal' : undefined}
      min=${numeric ? doc.minimum ?? doc.exclusiveMinimum : undefined} max=${numeric ? doc.maximum : undefined} step=${numeric ? k.step ?? (k.type === 'int' ? '1' : undefined) : undefined}
      value=${value} onInput=${(e) => onChange(e.currentTarget.value)} />`;
  }
  return html`
    <div class=${`field${searching ? ' searched' : ''}`}>
      <div class="label-row"><label for=${id}>${k.label}</label>${toggle}</div>
      ${input}
      ${hint && html`<p class="hint" id=${hint}>${hintText}</p>`}
      <${FieldError} errors=${errors} name=${k.name} />
    </div>`;
}

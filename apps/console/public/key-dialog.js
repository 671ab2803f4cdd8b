// Asks for the API key (on a 401, or from the header button) and keeps it in this browser's storage.
import { html, useEffect, useRef, useState } from './lib.js';
import { apiKey } from './api.js';

export function KeyDialog({ open, reason, onClose }) {
  const dialog = useRef(null);
  const [value, setValue] = useState(apiKey.get());
  useEffect(() => {
    const d = dialog.current;
    if (open && !d.open) {
      setValue(apiKey.get());
      d.showModal();
    } else if (!open && d.open) d.close();
  }, [open]);

  const save = (e) => {
    e.preventDefault();
    apiKey.set(value.trim());
    onClose(true);
  };
  return html`
    <dialog ref=${dialog} class="key-dialog" aria-labelledby="key-title" onClose=${() => open && onClose(false)}>
      <form onSubmit=${save}>
        <h2 id="key-title">API key</h2>
        ${reason && html`<p class="error" role="alert">${reason}</p>`}
        <p>The key is kept in this browser only and sent with every request the console makes.</p>
        <label for="api-key">Key</label>
        <input id="api-key" type="password" autocomplete="off" spellcheck=${false} value=${value} onInput=${(e) => setValue(e.currentTarget.value)} />
        <div class="actions">
          <button type="submit" class="primary">Save</button>
          <button type="button" onClick=${() => { apiKey.set(''); setValue(''); onClose(true); }}>Forget key</button>
          <button type="button" onClick=${() => onClose(false)}>Cancel</button>
        </div>
      </form>
    </dialog>`;
}

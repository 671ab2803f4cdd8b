// A file picker that is also a drop target: a real <input type=file> (keyboard and screen readers use it as
// is) inside a label that accepts dragged files.
import { html, useState } from './lib.js';

export function DropZone({ id, accept, multiple = false, disabled = false, onFiles, children }) {
  const [over, setOver] = useState(false);
  const take = (files) => files.length && onFiles([...files]);
  return html`
    <label
      for=${id}
      class=${`drop-zone${over ? ' over' : ''}${disabled ? ' disabled' : ''}`}
      onDragOver=${(e) => { e.preventDefault(); setOver(true); }}
      onDragLeave=${() => setOver(false)}
      onDrop=${(e) => { e.preventDefault(); setOver(false); if (!disabled) take(e.dataTransfer.files); }}
    >
      ${children}
      <input id=${id} type="file" accept=${accept} multiple=${multiple} disabled=${disabled}
        onChange=${(e) => { take(e.currentTarget.files); e.currentTarget.value = ''; }} />
    </label>`;
}

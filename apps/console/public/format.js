// How numbers, sizes and times read on the page.
export const percent = (x, digits = 0) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(digits)} %`);
export const fixed = (x, digits = 3) => (x === null || x === undefined ? '–' : Number(x).toFixed(digits));

export function bytes(n) {
  const units = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

export const when = (iso) => (iso ? new Date(iso).toLocaleString() : '–');

export function duration(fromIso, toIso) {
  if (!fromIso) return '–';
  const s = Math.max(0, Math.round(((toIso ? new Date(toIso) : new Date()) - new Date(fromIso)) / 1000));
  return s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export const methodNames = {
  fine_tune: 'Fine-tuning',
  feature_extraction: 'Feature extraction',
  multi_task: 'Multi-task',
  domain_adaptation: 'Domain adaptation (DANN)',
};

/** A value of unknown shape (fields the API may add) as short text. */
export function anyValue(v) {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(4);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** "learningRate" / "prefix_ms" -> "learning rate" / "prefix ms" */
export const words = (key) => key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').toLowerCase();

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

/** A value of unknown shape (fields the API may add) as short text; `key` hints at a unit (…Ms, …_ms, …Seconds). */
export function anyValue(v, key = '') {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'number' && /(Ms|_ms)$/.test(key)) return `${(v / 1000).toFixed(v < 10_000 ? 2 : 1)} s`;
  if (typeof v === 'number' && /(Seconds|_s)$/.test(key)) return `${v.toFixed(v < 10 ? 2 : 1)} s`;
  if (typeof v === 'number') return String(Number(v.toPrecision(4)));
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** "learningRate" / "prefix_ms" -> "learning rate" / "prefix" (the unit goes with the value, see anyValue) */
export const words = (key) => key.replace(/(Ms|_ms|Seconds|_s)$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').trim().toLowerCase();

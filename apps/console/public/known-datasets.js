// The datasets uploaded from this browser (the API has no listing of them), newest first.
const storeName = 'graft.datasets';

export function knownDatasets() {
  try {
    return JSON.parse(localStorage.getItem(storeName) ?? '[]');
  } catch {
    return [];
  }
}

export function rememberDataset(view) {
  const rest = knownDatasets().filter((d) => d.id !== view.id);
  localStorage.setItem(storeName, JSON.stringify([view, ...rest].slice(0, 100)));
}

export function forgetDataset(id) {
  localStorage.setItem(storeName, JSON.stringify(knownDatasets().filter((d) => d.id !== id)));
}

export { loadBackbone, type Backbone } from './load-backbone.ts';
export { listBackbones, defaultBackboneId, type BackboneInfo, type ListedBackbone } from './registry.ts';
export type { BackboneFetch } from './model-files.ts';
export type { SplitModel } from './split.ts';

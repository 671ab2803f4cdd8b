export { loadBackbone, type Backbone } from './load-backbone.ts';
export { listBackbones, defaultBackboneId, type BackboneInfo } from './registry.ts';
export type { SplitModel } from './split.ts';

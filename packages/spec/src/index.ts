export * from './job-spec.ts';
export * from './job-view.ts';
export * from './metrics.ts';
export * from './errors.ts';
export * from './predict.ts';
export * from './sweep-spec.ts';

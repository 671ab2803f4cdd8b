export { computePrefixActivations, type PrefixActivations, type PrefixActivationsInput } from './prefix-activations.ts';
export { createRunner, type PrefixRunner, type PrefixRunnerSpec, type PrefixRunnerFactory } from './prefix-runner.ts';
export { saveArtifacts, tfjsRunner } from './tfjs-prefix-runner.ts';

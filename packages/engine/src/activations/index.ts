export { computePrefixActivations, poolThreads, type PrefixActivationsInput } from './prefix-activations.ts';
export { openPrefixPool, type PrefixPool, type PrefixPoolOptions, type ActivationRequest, type PrefixActivations } from './prefix-pool.ts';
export { createRunner, type PrefixRunner, type PrefixRunnerSpec, type PrefixRunnerFactory } from './prefix-runner.ts';
export { saveArtifacts, tfjsRunner, tfjsRunnerSpec } from './tfjs-prefix-runner.ts';
export { idlePrefixPools, keepPrefixPoolsWarm, leasePrefixPool, prefixPoolBytes, type PoolLease, type WarmPoolLimits } from './warm-pools.ts';
export { reservePrefixThreads, reservedPrefixThreads } from './thread-reserve.ts';

// The forward path of the frozen prefix, pluggable: anything that maps a batch of preprocessed images
// (NHWC floats) to prefix activations. A runner is described by a spec — an ES module and the plain
// data to build it from — so each worker thread can build its own (TF.js here; an ONNX Runtime runner
// from @graft/onnx can be plugged in the same way).
export interface PrefixRunner {
  /** per-image output shape, e.g. [3, 3, 160] */
  readonly outputShape: number[];
  /** batch: n × imageSize × imageSize × 3 floats -> n × prod(outputShape) floats */
  run(batch: Float32Array, n: number): Promise<Float32Array>;
  dispose(): void | Promise<void>;
}

export interface PrefixRunnerSpec {
  /** module URL or specifier, importable from any thread */
  module: string;
  /** factory exported by the module: (init, imageSize) => Promise<PrefixRunner>; default createPrefixRunner */
  exportName?: string;
  /** structured-cloneable data the factory needs (model bytes, options) */
  init: unknown;
}

export type PrefixRunnerFactory = (init: unknown, imageSize: number) => Promise<PrefixRunner>;

export async function createRunner(spec: PrefixRunnerSpec, imageSize: number): Promise<PrefixRunner> {
  const mod = (await import(spec.module)) as Record<string, unknown>;
  const factory = mod[spec.exportName ?? 'createPrefixRunner'];
  if (typeof factory !== 'function') throw new Error(`${spec.module} exports no prefix-runner factory ${spec.exportName ?? 'createPrefixRunner'}`);
  return (factory as PrefixRunnerFactory)(spec.init, imageSize);
}

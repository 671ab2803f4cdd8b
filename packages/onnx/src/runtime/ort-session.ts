// ONNX Runtime, loaded on demand: onnxruntime-node is optional at run time, so every caller gets
// null (and the log says why) when it is missing, broken or switched off with GRAFT_ONNX=off.
import os from 'node:os';

type Ort = typeof import('onnxruntime-node');

/** The subset of a pino logger used here. */
export interface OnnxLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

const silent: OnnxLogger = { info() {}, warn() {} };

let loading: Promise<Ort | null> | undefined;

export function loadOrt(logger: OnnxLogger = silent): Promise<Ort | null> {
  if (process.env.GRAFT_ONNX === 'off') {
    logger.info({ path: 'tfjs' }, 'ONNX Runtime switched off (GRAFT_ONNX=off); forward passes run on TF.js');
    return Promise.resolve(null);
  }
  loading ??= import('onnxruntime-node').then(
    (m) => m,
    (err: unknown) => {
      logger.warn({ path: 'tfjs', err: String(err) }, 'onnxruntime-node failed to load; forward passes run on TF.js');
      return null;
    },
  );
  return loading;
}

export async function isOnnxAvailable(): Promise<boolean> {
  return (await loadOrt()) !== null;
}

export interface OnnxRunnerOptions {
  /** intra-op threads; default: all cores */
  threads?: number;
  /**
   * Let idle intra-op threads spin between kernels (ONNX Runtime's default). Off by default: on these
   * 2-core machines other work shares the cores, and spinning threads then halve throughput (measured
   * MobileNetV2 96 px batch 32 under load: 122-145 img/s spinning vs 206-267 without).
   */
  spinning?: boolean;
  /** images per ONNX Runtime call; default: as many as keep the working set in cache (see chunkSize) */
  maxChunk?: number;
  logger?: OnnxLogger;
}

/** A loaded ONNX model run on batches of flat float32 data (NHWC images or feature rows). */
export interface OnnxRunner {
  /** shape of one input item, e.g. [h, w, 3] */
  readonly inputShape: number[];
  /** shape of one output item, e.g. [1280] or [h', w', c'] */
  readonly outputShape: number[];
  /** `batch` holds n items back to back; returns n outputs back to back */
  run(batch: Float32Array, n: number): Promise<Float32Array>;
  dispose(): Promise<void>;
}

/** The shape of one item (dims after the batch), or null if any is symbolic. */
function itemShape(dims: readonly (number | string)[]): number[] | null {
  const rest = dims.slice(1);
  return rest.every((d): d is number => typeof d === 'number') ? rest : null;
}

/**
 * Images per call. A batch's activations are processed layer by layer, so a large batch of large images
 * leaves the caches: MobileNetV2 on 2 threads ran ~640 img/s at 96 px in calls of 1–8 images but ~210–580
 * at 32, and at 224 px ~110–134 img/s one image at a time against ~43 at 32. Calls of at most
 * 8 × 96² pixels keep the fast regime; inputs that are not images ([h, w, c]) go in one call.
 */
function chunkSize(inputShape: number[]): number {
  if (inputShape.length !== 3) return Number.MAX_SAFE_INTEGER;
  return Math.max(1, Math.floor((8 * 96 * 96) / (inputShape[0] * inputShape[1])));
}

export type OrtSession = Awaited<ReturnType<Ort['InferenceSession']['create']>>;

/**
 * A session with the engine's settings (intra-op threads = cores, no spinning, all graph optimisations) and the
 * runtime that made it; null (logged) when the runtime is unavailable or rejects the model.
 */
export async function openSession(onnxBytes: Uint8Array, opts: OnnxRunnerOptions = {}): Promise<{ ort: Ort; session: OrtSession; threads: number } | null> {
  const logger = opts.logger ?? silent;
  const ort = await loadOrt(logger);
  if (!ort) return null;
  const threads = opts.threads ?? os.availableParallelism();
  try {
    const session = await ort.InferenceSession.create(onnxBytes, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: opts.spinning ? '1' : '0' } } },
    });
    return { ort, session, threads };
  } catch (err) {
    logger.warn({ path: 'tfjs', err: String(err) }, 'ONNX Runtime rejected the model; forward passes run on TF.js');
    return null;
  }
}

/** Opens an ONNX model in ONNX Runtime; null when the runtime is unavailable or rejects the model. */
export async function createOnnxRunner(onnxBytes: Uint8Array, opts: OnnxRunnerOptions = {}): Promise<OnnxRunner | null> {
  const logger = opts.logger ?? silent;
  const opened = await openSession(onnxBytes, opts);
  if (!opened) return null;
  const { ort, session, threads } = opened;
  const [input] = session.inputNames;
  const [output] = session.outputNames;
  const inMeta = session.inputMetadata[0];
  const outMeta = session.outputMetadata[0];
  const inputShape = inMeta.isTensor ? itemShape(inMeta.shape) : null;
  const outputShape = outMeta.isTensor ? itemShape(outMeta.shape) : null;
  if (!inputShape || !outputShape) {
    // e.g. a fully convolutional user model without a fixed image size: TF.js handles any size
    logger.warn({ path: 'tfjs', inputs: inMeta, outputs: outMeta }, 'ONNX model has no fixed per-item shape; forward passes run on TF.js');
    await session.release();
    return null;
  }
  const inSize = inputShape.reduce((a, b) => a * b, 1);
  const outSize = outputShape.reduce((a, b) => a * b, 1);
  const chunk = opts.maxChunk ?? chunkSize(inputShape);
  logger.info({ path: 'onnxruntime', threads, inputShape, outputShape }, 'forward passes run on ONNX Runtime');
  return {
    inputShape,
    outputShape,
    async run(batch, n) {
      if (batch.length !== n * inSize) throw new Error(`batch holds ${batch.length} floats, expected ${n} x ${inSize}`);
      const out = new Float32Array(n * outSize);
      for (let start = 0; start < n; start += chunk) {
        const m = Math.min(chunk, n - start);
        const x = new ort.Tensor('float32', batch.subarray(start * inSize, (start + m) * inSize), [m, ...inputShape]);
        const result = await session.run({ [input]: x });
        out.set(result[output].data as Float32Array, start * outSize);
      }
      return out;
    },
    dispose: () => session.release(),
  };
}

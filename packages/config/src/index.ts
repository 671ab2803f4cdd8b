// One typed view of the environment, with the defaults that let `npm start` run on a fresh machine.
// Every value is checked once at start so a typo fails fast with the variable's name, not later mid-job.
import { parseAllowList } from '@graft/safe-fetch';

export interface S3Settings {
  endpoint: string | undefined;
  region: string;
  forcePathStyle: boolean;
  /** undefined = the AWS SDK's default credential chain (env AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles …) */
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
}

export interface DatasetLimitsConfig {
  maxArchiveBytes: number;
  maxUncompressedBytes: number;
  maxEntries: number;
  maxImagePixels: number;
}

export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  redisUrl: string;
  storageUrl: string;
  s3: S3Settings;
  datasetsDir: string;
  queuePrefix: string;
  workerConcurrency: number;
  /** BullMQ lock of a running job; a killed worker's job is re-run after it expires (+ up to one stalled-check interval). */
  workerLockDurationMs: number;
  workerStalledIntervalMs: number;
  /** On SIGTERM the worker lets its current job finish for this long, then hands it back to the queue. */
  shutdownGraceMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  maxUploadBytes: number;
  datasetLimits: DatasetLimitsConfig;
  /** bytes of a job's dataset images a worker keeps in memory (the rest go to its temp folder); 0 = all on disk */
  datasetMemoryBytes: number;
  /** prefix pools (threads, ONNX Runtime sessions, the prefix's export) a worker keeps warm between jobs, and their estimated bytes */
  warmPrefixPools: { maxPools: number; maxBytes: number };
  tfjsBackend: string | undefined;
  /** GRAFT_ADMIN_KEY: the operator's key (all scopes); unset: only keys stored in Postgres */
  adminKey: string | undefined;
  /** how often API and workers put back jobs the queue lost (packages/queue reconciler) */
  reconcileIntervalMs: number;
  /** a running job with no progress for this long is failed (the watchdog) */
  jobStallTimeoutMs: number;
  /** where `npm start` writes the admin key it creates when there is none (0600) */
  adminKeyFile: string;
  /** quotas of a tenant created without them (POST /tenants); see apps/api/src/auth */
  tenantDefaults: { maxConcurrentJobs: number; maxStorageBytes: number; predictPerMinute: number };
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const GiB = 1024 ** 3;
const logLevels: readonly Config['logLevel'][] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function str(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v.trim() === '' ? fallback : v.trim();
}

function optional(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

function int(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a whole number`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name}=${raw} is out of range (${min}..${max})`);
  return n;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = optional(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'no'].includes(raw)) return false;
  throw new ConfigError(`${name}=${JSON.stringify(raw)} must be true or false`);
}

function url(env: Env, name: string, fallback: string, protocols: string[]): string {
  const raw = str(env, name, fallback);
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return raw;
}

export function loadConfig(env: Env = process.env): Config {
  const accessKeyId = optional(env, 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = optional(env, 'AWS_SECRET_ACCESS_KEY');
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
    throw new ConfigError('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together');
  }
  const logLevel = str(env, 'LOG_LEVEL', 'info') as Config['logLevel'];
  if (!logLevels.includes(logLevel)) throw new ConfigError(`LOG_LEVEL=${JSON.stringify(logLevel)} must be one of ${logLevels.join(', ')}`);
  // read where it is used (@graft/safe-fetch), checked here so a typo stops the process at start
  try {
    parseAllowList(env.FETCH_ALLOW);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const queuePrefix = str(env, 'QUEUE_PREFIX', 'graft');
  if (!/^[A-Za-z0-9_.-]+$/.test(queuePrefix)) throw new ConfigError(`QUEUE_PREFIX=${JSON.stringify(queuePrefix)} may hold only letters, digits, _ . -`);

  return {
    port: int(env, 'PORT', 3000, 0, 65535),
    host: str(env, 'HOST', '0.0.0.0'),
    databaseUrl: url(env, 'DATABASE_URL', 'postgresql://postgres@127.0.0.1:5432/graft', ['postgresql:', 'postgres:']),
    redisUrl: url(env, 'REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    storageUrl: url(env, 'STORAGE_URL', 'file://./var/storage', ['file:', 's3:']),
    s3: {
      endpoint: optional(env, 'S3_ENDPOINT') && url(env, 'S3_ENDPOINT', '', ['http:', 'https:']),
      region: str(env, 'S3_REGION', str(env, 'AWS_REGION', 'us-east-1')),
      forcePathStyle: bool(env, 'S3_FORCE_PATH_STYLE', Boolean(optional(env, 'S3_ENDPOINT'))),
      credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
    },
    datasetsDir: str(env, 'DATASETS_DIR', './data'),
    queuePrefix,
    workerConcurrency: int(env, 'WORKER_CONCURRENCY', 1, 1, 64),
    workerLockDurationMs: int(env, 'WORKER_LOCK_DURATION_MS', 30_000, 1_000),
    workerStalledIntervalMs: int(env, 'WORKER_STALLED_INTERVAL_MS', 15_000, 500),
    shutdownGraceMs: int(env, 'SHUTDOWN_GRACE_MS', 25_000, 0),
    logLevel,
    maxUploadBytes: int(env, 'MAX_UPLOAD_BYTES', 2 * GiB, 1),
    datasetLimits: {
      maxArchiveBytes: int(env, 'MAX_ARCHIVE_BYTES', 2 * GiB, 1),
      maxUncompressedBytes: int(env, 'MAX_UNCOMPRESSED_BYTES', 8 * GiB, 1),
      maxEntries: int(env, 'MAX_ARCHIVE_ENTRIES', 200_000, 1),
      maxImagePixels: int(env, 'MAX_IMAGE_PIXELS', 50_000_000, 1),
    },
    datasetMemoryBytes: int(env, 'DATASET_MEMORY_BYTES', GiB / 2, 0),
    warmPrefixPools: { maxPools: int(env, 'WARM_PREFIX_POOLS', 1, 0, 16), maxBytes: int(env, 'WARM_PREFIX_POOL_BYTES', GiB / 2, 0) },
    tfjsBackend: optional(env, 'TFJS_BACKEND'),
    adminKey: optional(env, 'GRAFT_ADMIN_KEY'),
    reconcileIntervalMs: int(env, 'RECONCILE_INTERVAL_MS', 30_000, 100),
    jobStallTimeoutMs: int(env, 'JOB_STALL_TIMEOUT_MS', 60 * 60_000, 1_000),
    adminKeyFile: str(env, 'GRAFT_ADMIN_KEY_FILE', 'var/admin-key'),
    tenantDefaults: {
      maxConcurrentJobs: int(env, 'TENANT_MAX_CONCURRENT_JOBS', 4, 1),
      maxStorageBytes: int(env, 'TENANT_MAX_STORAGE_BYTES', 20 * GiB, 1),
      predictPerMinute: int(env, 'TENANT_PREDICT_PER_MINUTE', 600, 1),
    },
  };
}

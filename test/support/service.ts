// Real worker processes for end-to-end tests: each runs `apps/worker/src/main.ts` with its own env
// (throwaway database, unique queue prefix, storage folder) and can be SIGTERMed or SIGKILLed.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { PrismaClient, Job } from '@graft/db';

const root = fileURLToPath(new URL('../..', import.meta.url));

export const uniqueQueuePrefix = (label: string) => `graft-test-${label}-${randomBytes(4).toString('hex')}`;

export interface WorkerProcess {
  child: ChildProcess;
  /** everything the process logged (pino JSON lines), for assertions and failure messages */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** resolves once a log line matching the pattern appears */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

export function startWorkerProcess(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/worker/src/main.ts'], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    for (const w of [...waiters]) {
      const line = out.split('\n').find((l) => w.pattern.test(l));
      if (line) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output: () => out,
    exited,
    waitForLog(pattern, timeoutMs = 60_000) {
      const found = out.split('\n').find((l) => pattern.test(l));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no log line matching ${pattern} within ${timeoutMs} ms; output:\n${out.slice(-4000)}`)), timeoutMs);
        waiters.push({ pattern, resolve: (l) => (clearTimeout(timer), resolve(l)) });
        void exited.then(({ code, signal }) => reject(new Error(`worker exited (${signal ?? code}) before logging ${pattern}; output:\n${out.slice(-4000)}`)));
      });
    },
  };
}

/** Stops a worker process if still running (SIGKILL: tests do not wait for graceful shutdown here). */
export async function killWorker(w: WorkerProcess): Promise<void> {
  if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await w.exited;
}

/** Polls Postgres until the job satisfies the predicate; on timeout the error includes the workers' recent output. */
export async function waitForJob(
  prisma: PrismaClient,
  jobId: string,
  until: (job: Job) => boolean,
  timeoutMs = 90_000,
  workers: WorkerProcess[] = [],
): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  let job: Job | null = null;
  while (Date.now() < deadline) {
    job = await prisma.job.findUnique({ where: { id: jobId } });
    if (job && until(job)) return job;
    await new Promise((r) => setTimeout(r, 200));
  }
  const logs = workers.map((w, i) => `--- worker ${i} (pid ${w.child.pid}):\n${w.output().slice(-6000)}`).join('\n');
  throw new Error(`job ${jobId} did not reach the expected state in ${timeoutMs} ms; last: ${JSON.stringify(job)}\n${logs}`);
}

export const isTerminal = (job: Job) => ['succeeded', 'failed', 'cancelled'].includes(job.status);

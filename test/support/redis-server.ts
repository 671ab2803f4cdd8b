// A Redis of a test's own on a spare loopback port, to restart or kill (the shared one on 6379 is never
// touched). No persistence: a restart comes back empty, as the embedded default runs it.
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './ports.ts';

export interface TestRedis {
  url: string;
  /** stops it (SIGKILL: nothing is saved) and starts it again, empty, on the same port */
  restartEmpty(): Promise<void>;
  stop(): Promise<void>;
}

function launch(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c;
      if (out.includes('Ready to accept connections')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${out}`)));
  });
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

export async function startTestRedis(): Promise<TestRedis> {
  const port = await freePort();
  let child = await launch(port);
  return {
    url: `redis://127.0.0.1:${port}`,
    async restartEmpty() {
      await kill(child);
      child = await launch(port);
    },
    stop: () => kill(child),
  };
}

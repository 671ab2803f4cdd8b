// `npm start` (scripts/start.mjs) on an empty database: migrations, then the API and a worker as child
// processes; SIGTERM stops both gracefully and it exits 0. This also runs apps/api/src/main.ts for real.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dropDatabase } from '@graft/db';
import { serverUrl } from '../support/db.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

test('npm start migrates an empty database, serves /readyz, and exits 0 on SIGTERM', async () => {
  const port = await freePort();
  const databaseUrl = `${serverUrl}/graft_start_${randomBytes(4).toString('hex')}`;
  const storage = await mkdtemp(path.join(tmpdir(), 'graft-start-'));
  const child = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: root,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: databaseUrl, QUEUE_PREFIX: `graft-test-start-${randomBytes(4).toString('hex')}`, STORAGE_URL: `file://${storage}`, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so a failed test can stop the API and worker too
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c));
  child.stderr.on('data', (c: Buffer) => (output += c));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  try {
    const deadline = Date.now() + 90_000;
    let ready: Response | undefined;
    while (Date.now() < deadline && child.exitCode === null) {
      ready = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
      if (ready?.ok) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(ready?.status, 200, `not ready; output:\n${output}`);
    assert.deepEqual(await ready.json(), { status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
    assert.match(output, /applied \d+_init(, \d+_\w+)* \(database created\)/); // and every later migration

    const stopAsked = Date.now();
    child.kill('SIGTERM');
    const { code } = await exited;
    assert.equal(code, 0, `exit code; output:\n${output}`);
    assert.ok(Date.now() - stopAsked < 20_000, 'stops promptly');
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), 'the API is gone');
  } finally {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    await exited;
    await dropDatabase(databaseUrl);
    await rm(storage, { recursive: true, force: true });
  }
});

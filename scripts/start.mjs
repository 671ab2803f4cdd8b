// `npm start`: applies the migrations once, creates the admin key on a fresh install, then runs the API and one worker as child processes
// (through tsx: there is no build step). SIGTERM/SIGINT are passed on so both shut down gracefully;
// if either one dies, the other is stopped too and we exit, so a supervisor sees the failure.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function run(file) {
  return spawn(process.execPath, ['--import', 'tsx', file], { cwd: root, stdio: 'inherit', env: process.env });
}

function exited(child) {
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
}

const migration = await exited(run('packages/db/src/migrate-cli.ts'));
if (migration.code !== 0) {
  console.error(`graft: migrations failed (${migration.signal ?? `exit code ${migration.code}`}); nothing started`);
  process.exit(migration.code || 1);
}

// Without GRAFT_ADMIN_KEY and without an admin key yet, create one (printed once, written to var/admin-key).
const bootstrap = await exited(run('apps/api/src/auth/bootstrap-cli.ts'));
if (bootstrap.code !== 0) {
  console.error(`graft: creating the admin key failed (${bootstrap.signal ?? `exit code ${bootstrap.code}`}); nothing started`);
  process.exit(bootstrap.code || 1);
}

const children = new Map([
  ['api', run('apps/api/src/main.ts')],
  ['worker', run('apps/worker/src/main.ts')],
]);
let stopping = false;
let exitCode = 0;

function stopAll(signal) {
  for (const child of children.values()) {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  }
}

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    stopping = true;
    stopAll(signal);
  });
}

for (const [name, child] of children) {
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      console.error(`graft: the ${name} process ended (${signal ?? `exit code ${code}`}); stopping the rest`);
      exitCode = code || 1;
      stopping = true;
      stopAll('SIGTERM');
    } else if (code) {
      exitCode ||= code;
    }
    if (children.size === 0) process.exit(exitCode);
  });
}

// `prisma generate` needs no schema engine (the client uses the query compiler + a driver adapter), but the
// CLI still tries to download one first and fails offline unless PRISMA_SCHEMA_ENGINE_BINARY names an
// existing file. Pointing it at this script is enough for `generate`; a real engine set by the user wins.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? fileURLToPath(import.meta.url) };
const result = spawnSync('npx', ['--no-install', 'prisma', 'generate'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);

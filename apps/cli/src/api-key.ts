// The key the CLI sends: GRAFT_API_KEY, else the admin key `npm start` wrote to GRAFT_ADMIN_KEY_FILE
// (default var/admin-key), so an operator on the server machine needs nothing set.
import { readFileSync } from 'node:fs';
import path from 'node:path';


export function resolveApiKey(env: Record<string, string | undefined>, cwd = process.cwd()): string | undefined {
  const fromEnv = env.GRAFT_API_KEY?.trim();
  if (fromEnv) return fromEnv;
  try {
    return readFileSync(path.resolve(cwd, env.GRAFT_ADMIN_KEY_FILE?.trim() || 'var/admin-key'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

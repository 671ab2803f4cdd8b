// The key the CLI sends: GRAFT_API_KEY, else the admin key `npm start` wrote to var/admin-key (an
// operator on the server machine then needs nothing set).
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const adminKeyFile = path.join('var', 'admin-key');

export function resolveApiKey(env: Record<string, string | undefined>, cwd = process.cwd()): string | undefined {
  const fromEnv = env.GRAFT_API_KEY?.trim();
  if (fromEnv) return fromEnv;
  try {
    return readFileSync(path.join(cwd, adminKeyFile), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

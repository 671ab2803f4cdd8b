// Creating and dropping the database a URL names, so `npm start` works on an empty server and tests can
// use a throwaway database each. Done through the server's maintenance database `postgres`.
import pg from 'pg';

function split(databaseUrl: string): { name: string; adminUrl: string } {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) throw new Error(`DATABASE_URL ${url.origin} names no database`);
  url.pathname = '/postgres';
  url.search = '';
  return { name, adminUrl: url.toString() };
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** A plain pg connection for admin work (Prisma's client is for the application's queries). */
export async function connectPg(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined); // a dropped connection surfaces as the failed query instead
  await client.connect();
  return client;
}

async function withAdmin<T>(adminUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = await connectPg(adminUrl);
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates the database named in the URL if it does not exist. Returns true when it was created. */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const { name, adminUrl } = split(databaseUrl);
  return withAdmin(adminUrl, async (c) => {
    const found = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    try {
      await c.query(`CREATE DATABASE ${quoteIdent(name)}`);
    } catch (err) {
      // Another process (API and worker start together) created it first: duplicate_database, or the
      // unique index on pg_database when both CREATEs ran at the same moment.
      const code = (err as { code?: string }).code;
      if (code === '42P04' || code === '23505') return false;
      throw err;
    }
    return true;
  });
}

/** Drops the database named in the URL, closing other sessions on it first. */
export async function dropDatabase(databaseUrl: string): Promise<void> {
  const { name, adminUrl } = split(databaseUrl);
  await withAdmin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
}

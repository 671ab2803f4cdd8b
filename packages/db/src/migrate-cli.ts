// `npm run migrate` (and `npm start` before the API and worker): create the database in DATABASE_URL if needed, apply prisma/migrations.
import { loadConfig } from '@graft/config';
import { migrate } from './migrate.ts';

const config = loadConfig();
const result = await migrate(config.databaseUrl, { logger: { info: (o, m) => console.log(m, o), warn: (o, m) => console.warn(m, o) } });
console.log(
  result.applied.length ? `applied ${result.applied.join(', ')}` : 'database is up to date',
  result.createdDatabase ? '(database created)' : '',
);

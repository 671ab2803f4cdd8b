// Prisma CLI settings. The datasource URL matters only to `prisma migrate deploy` where the native schema
// engine exists; here migrations are applied by packages/db/src/migrate.ts over the same files.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/graft' },
});

// Step of `npm start` (scripts/start.mjs) between the migrations and the API: see bootstrap-admin.ts.
import { loadConfig } from '@graft/config';
import { createPrisma } from '@graft/db';
import { bootstrapAdminKey } from './bootstrap-admin.ts';

const config = loadConfig();
const prisma = createPrisma(config.databaseUrl);
try {
  const outcome = await bootstrapAdminKey(prisma, { adminKey: config.adminKey, file: config.adminKeyFile });
  if (outcome.created) {
    console.log(
      `graft: created the admin key (shown only now; also in ${outcome.file}, mode 0600, where graft-client finds it):\n\n  ${outcome.key}\n\n` +
        'Create tenants and their keys with it: POST /tenants, POST /tenants/{id}/keys (README, "API keys").',
    );
  }
} finally {
  await prisma.$disconnect();
}

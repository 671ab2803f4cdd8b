// Who is calling: resolved from `Authorization: Bearer <key>` against the operator's GRAFT_ADMIN_KEY
// and the ApiKey rows. Admin keys (operators) hold every scope and act in the legacy tenant.
import { LEGACY_TENANT_ID, scopes as allScopes, tenants, type PrismaClient, type Scope } from '@graft/db';
import { lookupOf, matchesHash, hashKey } from './keys.ts';

export interface Principal {
  tenantId: string;
  scopes: Scope[];
  isAdmin: boolean;
  /** the ApiKey row, or null for GRAFT_ADMIN_KEY */
  keyId: string | null;
}

export interface KeyVerifier {
  verify(presented: string): Promise<Principal | null>;
}

export function keyVerifier(prisma: PrismaClient, adminKey: string | undefined): KeyVerifier {
  const adminHash = adminKey ? hashKey(adminKey) : undefined;
  return {
    async verify(presented) {
      if (adminHash && matchesHash(presented, adminHash)) {
        return { tenantId: LEGACY_TENANT_ID, scopes: [...allScopes], isAdmin: true, keyId: null };
      }
      const lookup = lookupOf(presented);
      if (!lookup) return null;
      const row = await tenants.findActiveKey(prisma, lookup);
      if (!row || !matchesHash(presented, row.hash)) return null;
      const scopes = row.scopes as Scope[];
      const isAdmin = scopes.includes('admin');
      return { tenantId: row.tenantId, scopes: isAdmin ? [...allScopes] : scopes, isAdmin, keyId: row.id };
    },
  };
}

// API keys as authentication reads them on every request: by prefix, grouped across the
// requests of one turn (one query per group, not per request; nothing cached, so a revoked
// key is refused on its next request), and the occasional lastUsedAt stamp.
import { groupPerTurn } from '../concurrency/group-per-turn.js';
import type { PrismaClient } from '../db/database.js';
import type { ApiKey } from '../generated/prisma/client.js';

export interface ApiKeyReads {
  /** The key with this public prefix, or undefined. */
  findByPrefix(prefix: string): Promise<ApiKey | undefined>;
  /** Stamps lastUsedAt; a failure is ignored (the stamp is informational). */
  recordUse(keyId: string, at: Date): Promise<void>;
}

export function createApiKeyReads(prisma: PrismaClient): ApiKeyReads {
  const findByPrefix = groupPerTurn<string, ApiKey | undefined>(async (prefixes) => {
    const rows = await prisma.apiKey.findMany({ where: { prefix: { in: [...prefixes] } } });
    const byPrefix = new Map(rows.map((r) => [r.prefix, r]));
    return prefixes.map((p) => byPrefix.get(p));
  });
  return {
    findByPrefix,
    async recordUse(keyId, at) {
      await prisma.apiKey.update({ where: { id: keyId }, data: { lastUsedAt: at } }).catch(() => {});
    },
  };
}

// API keys as authentication reads them on every request: by prefix, grouped across the
// requests of one turn and kept in memory for a while (store/cached-reads.ts; a revocation
// announces itself, so a revoked key is refused from its next request on every process), and
// the occasional lastUsedAt stamp.
import { groupPerTurn } from '../concurrency/group-per-turn.js';
import type { PrismaClient } from '../db/database.js';
import type { ApiKey } from '../generated/prisma/client.js';
import { cachedReads } from './cached-reads.js';

/** How long a key read stays in memory when no change of it is announced (a lost NOTIFY). */
const KEY_TTL_MS = 10_000;

export interface ApiKeyReads {
  /** The key with this public prefix, or undefined. */
  findByPrefix(prefix: string): Promise<ApiKey | undefined>;
  /** The key with this id, or undefined: an access token names its parent key so. */
  findById(id: string): Promise<ApiKey | undefined>;
  /** Stamps lastUsedAt; a failure is ignored (the stamp is informational). */
  recordUse(keyId: string, at: Date): Promise<void>;
}

export function createApiKeyReads(prisma: PrismaClient): ApiKeyReads {
  const findByPrefix = groupPerTurn<string, ApiKey | undefined>(async (prefixes) => {
    const rows = await prisma.apiKey.findMany({ where: { prefix: { in: [...prefixes] } } });
    const byPrefix = new Map(rows.map((r) => [r.prefix, r]));
    return prefixes.map((p) => byPrefix.get(p));
  });
  const cached = cachedReads<ApiKey | undefined>({
    kind: 'api-keys',
    ttlMs: KEY_TTL_MS,
    load: findByPrefix,
    // An unknown prefix is not kept: a key created later must work at once.
    keep: (row) => row !== undefined,
    // Announced by key id; an entry still loading may be that key.
    concerns: (_prefix, row, keyId) => row === undefined || row.id === keyId,
  });
  const findById = groupPerTurn<string, ApiKey | undefined>(async (keyIds) => {
    const rows = await prisma.apiKey.findMany({ where: { id: { in: [...keyIds] } } });
    const byId = new Map(rows.map((r) => [r.id, r]));
    return keyIds.map((id) => byId.get(id));
  });
  // Every use of an access token reads its parent key here: a revocation (announced by key id)
  // drops the entry, so the token is refused from its next request on every process.
  const cachedById = cachedReads<ApiKey | undefined>({ kind: 'api-keys', ttlMs: KEY_TTL_MS, load: findById, keep: (row) => row !== undefined });
  return {
    findByPrefix: (prefix) => cached.get(prefix),
    findById: (id) => cachedById.get(id),
    async recordUse(keyId, at) {
      await prisma.apiKey.update({ where: { id: keyId }, data: { lastUsedAt: at } }).catch(() => {});
    },
  };
}

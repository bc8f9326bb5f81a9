import type { PrismaClient } from '../db/database.js';
import type { ApiKey } from '../generated/prisma/client.js';
import { apiKeyMatches, generateApiKey, parseApiKeyPrefix, type ApiKeyRole, type Auth } from '../domain/api-key.js';
import { NotFoundError } from '../domain/errors.js';
import type { HeraldPubSub } from '../pubsub/pubsub.js';
import type { ApiKeyReads } from '../store/api-keys.js';
import { announceChange } from '../store/invalidation.js';
import { recordAudit, type AuditActor } from './audit.js';

export type CreatedApiKey = ApiKey & {
  /** The whole key. Returned once; only its hash is stored. */
  secret: string;
};

/** Creates a key; with `audit`, its audit entry commits with it (never the secret: name, role, prefix). */
export async function createApiKey(
  prisma: PrismaClient,
  input: { accountId: string; name: string; role: ApiKeyRole },
  audit?: AuditActor,
): Promise<CreatedApiKey> {
  const generated = generateApiKey();
  const data = { accountId: input.accountId, name: input.name, role: input.role, prefix: generated.prefix, secretHash: new Uint8Array(generated.secretHash) };
  const row = audit
    ? await prisma.$transaction(async (tx) => {
        const created = await tx.apiKey.create({ data });
        await recordAudit(tx, audit, { action: 'apiKey.create', subjectId: created.id, after: shownKey(created) });
        return created;
      })
    : await prisma.apiKey.create({ data });
  return { ...row, secret: generated.key };
}

/** What the audit log keeps of a key: never its secret or hash. */
const shownKey = (k: Pick<ApiKey, 'name' | 'role' | 'prefix' | 'revokedAt'>) => ({ name: k.name, role: k.role, prefix: k.prefix, revokedAt: k.revokedAt });

/** Finds an account by name, creating it on first use. */
export async function ensureAccount(prisma: PrismaClient, name: string) {
  return prisma.account.upsert({ where: { name }, create: { name }, update: {} });
}

/**
 * Revokes a key: its next HTTP request is refused (the revocation is announced to every
 * process's key cache through PostgreSQL, store/invalidation.ts, whoever revokes: a server or the CLI),
 * and with `pubsub` every instance closes the key's open WebSockets at once (code 4403).
 * Without it (the CLI has no pub/sub) open sockets last until they reconnect.
 */
export async function revokeApiKey(prisma: PrismaClient, accountId: string, keyId: string, pubsub?: Pick<HeraldPubSub, 'publishKeyRevoked'>, audit?: AuditActor) {
  const key = await prisma.apiKey.findFirst({ where: { id: keyId, accountId } });
  if (!key) return new NotFoundError('API key');
  // Already revoked: announced again all the same, in case an instance missed it (and not logged again).
  const revoked = key.revokedAt
    ? key
    : await prisma.$transaction(async (tx) => {
        const updated = await tx.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
        if (audit) await recordAudit(tx, audit, { action: 'apiKey.revoke', subjectId: key.id, before: shownKey(key), after: shownKey(updated) });
        return updated;
      });
  // Authentication reads keys from memory (store/api-keys.ts): every process on this database drops it.
  await announceChange(prisma, 'api-keys', key.id);
  pubsub?.publishKeyRevoked({ keyId: key.id, accountId });
  return revoked;
}

// lastUsedAt is informational: write it at most once a minute per key, not on every request.
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Resolves a presented key to its account and role, or undefined when it is malformed,
 * unknown or revoked. Keys are read through a cache that every revocation empties, so it takes
 * effect on the next request.
 */
export async function authenticateApiKey(apiKeys: ApiKeyReads, key: string | undefined, now = new Date()): Promise<Auth | undefined> {
  if (!key) return undefined;
  const prefix = parseApiKeyPrefix(key);
  if (!prefix) return undefined;
  const row = await apiKeys.findByPrefix(prefix);
  if (!row || row.revokedAt || !apiKeyMatches(key, row.secretHash)) return undefined;
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    // The row is the one the key cache holds: stamped here so that the requests that follow
    // do not write it again.
    row.lastUsedAt = now;
    await apiKeys.recordUse(row.id, now);
  }
  return { keyId: row.id, accountId: row.accountId, role: row.role };
}

/**
 * On an empty database, creates the first account and an ADMIN key so a new user can start
 * without any other tool. Returns the key (to print once), or undefined when accounts exist.
 */
export async function bootstrapAdminKey(prisma: PrismaClient): Promise<CreatedApiKey | undefined> {
  if ((await prisma.account.count()) > 0) return undefined;
  try {
    const account = await prisma.account.create({ data: { name: 'default' } });
    return await createApiKey(prisma, { accountId: account.id, name: 'bootstrap admin', role: 'ADMIN' });
  } catch (error) {
    // Two instances starting together on one PostgreSQL: the unique account name lets
    // exactly one of them bootstrap; the other sees the conflict and does nothing.
    if ((error as { code?: string }).code === 'P2002') return undefined;
    throw error;
  }
}

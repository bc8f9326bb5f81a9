// "This changed": tells the in-memory caches of every Herald process (store/cached-reads.ts)
// to drop what they hold for a key or an account. This process hears it at once; every other
// process on the same PostgreSQL hears it through NOTIFY (store/wake-channel.ts listens), which
// also reaches servers when the CLI makes the change and no Redis is configured.
import { EventEmitter } from 'node:events';
import type { PrismaClient } from '../db/database.js';

export const INVALIDATION_CHANNEL = 'herald_invalidate';

/**
 * What a cache holds: API keys (by prefix), an account's sender identities, its prices or its
 * budgets; or `config`, the run-time configuration (services/live-configuration.ts), id its version.
 */
export type CachedKind = 'api-keys' | 'sender-identities' | 'prices' | 'budgets' | 'config';

/** `id` null: anything of any kind may have changed (notifications may have been missed). */
type Listener = (kind: CachedKind | null, id: string | null) => void;

const local = new EventEmitter();
local.setMaxListeners(0);

/** Announces a change that has committed; NOTIFY outside a transaction is sent at once. */
export async function announceChange(prisma: Pick<PrismaClient, '$executeRaw'>, kind: CachedKind, id: string): Promise<void> {
  local.emit('change', kind, id);
  await prisma.$executeRaw`SELECT pg_notify(${INVALIDATION_CHANNEL}, ${`${kind} ${id}`})`;
}

/** Listens to every change announced to this process. Returns the stop. */
export function onChange(listener: Listener): () => void {
  local.on('change', listener);
  return () => local.off('change', listener);
}

/** A NOTIFY payload received, or undefined after a (re)connection when some may have been lost. */
export function receivedChange(payload: string | undefined): void {
  if (payload === undefined) return void local.emit('change', null, null);
  const space = payload.indexOf(' ');
  if (space < 0) return;
  local.emit('change', payload.slice(0, space) as CachedKind, payload.slice(space + 1));
}

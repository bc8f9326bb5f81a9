// Sender identities as sends and inbound routing read them: an account's identities (every
// send asks: grouped across the sends of one turn and kept in memory until a change is
// announced, store/cached-reads.ts) and the owner of a number (every reply).
import { groupPerTurn } from '../concurrency/group-per-turn.js';
import type { PrismaClient } from '../db/database.js';
import { cachedReads } from './cached-reads.js';

/** How long an account's identities stay in memory when no change is announced (a lost NOTIFY). */
const IDENTITIES_TTL_MS = 10_000;

export interface AccountIdentity {
  value: string;
  isDefault: boolean;
}

export interface IdentityOwner {
  accountId: string;
  value: string;
}

export interface SenderIdentityReads {
  /** The identities an account sends from (empty: the account is not restricted). */
  listForAccount(accountId: string): Promise<AccountIdentity[]>;
  /** The identity that receives messages sent to `value` (already normalised), whatever its account. */
  findOwner(value: string): Promise<IdentityOwner | null>;
}

export function createSenderIdentityReads(prisma: PrismaClient): SenderIdentityReads {
  const listForAccount = groupPerTurn<string, AccountIdentity[]>(async (accountIds) => {
    const rows = await prisma.senderIdentity.findMany({
      where: { accountId: { in: [...accountIds] } },
      select: { accountId: true, value: true, isDefault: true },
    });
    return accountIds.map((id) => rows.filter((r) => r.accountId === id).map(({ value, isDefault }) => ({ value, isDefault })));
  });
  const cached = cachedReads({ kind: 'sender-identities', ttlMs: IDENTITIES_TTL_MS, load: listForAccount });
  return {
    listForAccount: (accountId) => cached.get(accountId),
    findOwner: (value) => prisma.senderIdentity.findUnique({ where: { value }, select: { accountId: true, value: true } }),
  };
}

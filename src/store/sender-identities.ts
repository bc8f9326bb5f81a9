// Sender identities as sends and inbound routing read them: an account's identities (every
// send asks, grouped across the sends of one turn) and the owner of a number (every reply).
import { groupPerTurn } from '../concurrency/group-per-turn.js';
import type { PrismaClient } from '../db/database.js';

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
  return {
    listForAccount,
    findOwner: (value) => prisma.senderIdentity.findUnique({ where: { value }, select: { accountId: true, value: true } }),
  };
}

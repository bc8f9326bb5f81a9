// The opt-out list: whether recipients opted out (every send asks), and adding or removing a
// number (the API, and an inbound STOP or START inside the transaction that stores it).
import { groupPerTurn } from '../concurrency/group-per-turn.js';
import type { PrismaClient } from '../db/database.js';
import type { OptOut } from '../generated/prisma/client.js';
import type { Db } from './db-client.js';

export interface OptOutStore {
  /** Which of these E.164 numbers opted out of the account. */
  findOptedOut(accountId: string, phones: string[]): Promise<Set<string>>;
  /** Adds the number (idempotent) and returns its row. */
  add(accountId: string, phone: string, source: string, db?: Db): Promise<OptOut>;
  /** Whether the number was on the list (it is not any more). */
  remove(accountId: string, phone: string, db?: Db): Promise<boolean>;
}

interface OptOutKey {
  accountId: string;
  phone: string;
}

/** One row of the grouped lookup below. */
interface OptOutRow {
  accountId: string;
  phone: string;
}

const SEP = '\u0000';

export function createOptOutStore(prisma: PrismaClient): OptOutStore {
  // Single sends of one turn share one query, whatever their accounts.
  const isOptedOut = groupPerTurn<OptOutKey, boolean>(
    async (keys) => {
      const rows = await prisma.$queryRaw<OptOutRow[]>`
        SELECT o."accountId"::text AS "accountId", o.phone FROM "OptOut" o
        JOIN unnest(${keys.map((k) => k.accountId)}::uuid[], ${keys.map((k) => k.phone)}::text[]) AS k(account, phone)
          ON o."accountId" = k.account AND o.phone = k.phone`;
      const found = new Set(rows.map((r) => `${r.accountId}${SEP}${r.phone}`));
      return keys.map((k) => found.has(`${k.accountId}${SEP}${k.phone}`));
    },
    { maxGroupSize: 1000 },
  );

  return {
    async findOptedOut(accountId, phones) {
      if (phones.length === 0) return new Set();
      // A single send joins the other single sends of the turn; a bulk send asks once for all.
      if (phones.length === 1) return (await isOptedOut({ accountId, phone: phones[0]! })) ? new Set(phones) : new Set();
      // One array parameter, not Prisma's `in` list: the ORM builds a query with one value per
      // phone, which for a 10 000-recipient batch cost more than the lookup itself.
      const rows = await prisma.$queryRaw<{ phone: string }[]>`
        SELECT phone FROM "OptOut" WHERE "accountId" = ${accountId}::uuid AND phone = ANY(${[...new Set(phones)]}::text[])`;
      return new Set(rows.map((r) => r.phone));
    },
    async add(accountId, phone, source, db = prisma) {
      // Not upsert: on a compound key Prisma reads then inserts, so concurrent adds of one number
      // failed with a unique violation. ON CONFLICT DO NOTHING also leaves a caller's transaction usable.
      await db.optOut.createMany({ data: [{ accountId, phone, source }], skipDuplicates: true });
      return db.optOut.findUniqueOrThrow({ where: { accountId_phone: { accountId, phone } } });
    },
    async remove(accountId, phone, db = prisma) {
      const removed = await db.optOut.deleteMany({ where: { accountId, phone } });
      return removed.count > 0;
    },
  };
}

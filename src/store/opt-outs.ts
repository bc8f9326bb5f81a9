// The opt-out list: whether recipients opted out (every send asks), and adding or removing a
// number (the API, and an inbound STOP or START inside the transaction that stores it).
import { groupPerTurn } from '../concurrency/group-per-turn.js';
import type { PrismaClient } from '../db/database.js';
import { phoneHash } from '../domain/audit.js';
import { ERASED_OPT_OUT_PREFIX } from '../domain/erasure.js';
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

/**
 * `phoneHashKey` reads the per-install key of erased opt-outs: a number erased from an account
 * (services/erasure.ts) stays opted out as `erased:<keyed hash>`, so every lookup also asks for
 * each number's hashed form (one HMAC per number, in the same query).
 */
export function createOptOutStore(prisma: PrismaClient, phoneHashKey: () => Promise<Buffer>): OptOutStore {
  let key: Promise<Buffer> | undefined;
  const erasedForm = async () => {
    const k = await (key ??= phoneHashKey().catch((error: unknown) => ((key = undefined), Promise.reject(error))));
    return (phone: string) => `${ERASED_OPT_OUT_PREFIX}${phoneHash(k, phone)}`;
  };

  // Single sends of one turn share one query, whatever their accounts.
  const isOptedOut = groupPerTurn<OptOutKey, boolean>(
    async (keys) => {
      const erased = await erasedForm();
      // Each number twice, as itself and in its erased form: equality joins on the key.
      const accounts = keys.map((k) => k.accountId);
      const phones = keys.map((k) => k.phone);
      const rows = await prisma.$queryRaw<OptOutRow[]>`
        SELECT k.account::text AS "accountId", k.phone FROM "OptOut" o
        JOIN unnest(${[...accounts, ...accounts]}::uuid[], ${[...phones, ...phones.map(erased)]}::text[], ${[...phones, ...phones]}::text[]) AS k(account, stored, phone)
          ON o."accountId" = k.account AND o.phone = k.stored`;
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
      const erased = await erasedForm();
      const unique = [...new Set(phones)];
      const byErased = new Map(unique.map((p) => [erased(p), p]));
      const rows = await prisma.$queryRaw<{ phone: string }[]>`
        SELECT phone FROM "OptOut" WHERE "accountId" = ${accountId}::uuid AND phone = ANY(${[...unique, ...byErased.keys()]}::text[])`;
      return new Set(rows.map((r) => byErased.get(r.phone) ?? r.phone));
    },
    async add(accountId, phone, source, db = prisma) {
      // Not upsert: on a compound key Prisma reads then inserts, so concurrent adds of one number
      // failed with a unique violation. ON CONFLICT DO NOTHING also leaves a caller's transaction usable.
      await db.optOut.createMany({ data: [{ accountId, phone, source }], skipDuplicates: true });
      return db.optOut.findUniqueOrThrow({ where: { accountId_phone: { accountId, phone } } });
    },
    async remove(accountId, phone, db = prisma) {
      // START from an erased number ends its opt-out too.
      const erased = await erasedForm();
      const removed = await db.optOut.deleteMany({ where: { accountId, phone: { in: [phone, erased(phone)] } } });
      return removed.count > 0;
    },
  };
}

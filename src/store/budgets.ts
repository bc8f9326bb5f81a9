// Budgets' statements: an account's budgets (cached: every send of every account asks whether
// it has any, and an account without budgets must cost no query per send), setting and removing
// them, and the spend rows a send locks, checks and updates inside the transaction that inserts
// its messages (services/budgets.ts decides with domain/budgets.ts).
//
// Why a row lock and not a read: two sends of one account at once (two processes, two instances)
// each lock the period's spend row in turn; the second waits until the first committed or rolled
// back and then reads what the first left. So the spend can never pass the limit, whatever the
// concurrency, and a refused send leaves no trace.
import { v7 as uuidv7 } from 'uuid';
import type { PrismaClient } from '../db/database.js';
import type { BudgetLimit, BudgetPeriod } from '../domain/budgets.js';
import { cachedReads } from './cached-reads.js';
import type { Db, Tx } from './db-client.js';
import { announceChange } from './invalidation.js';

/** How long an account's budgets stay in memory when no change is announced (a lost NOTIFY). */
const BUDGETS_TTL_MS = 60_000;

/** One spend row: which period, which currency. */
export interface SpendKey {
  accountId: string;
  period: BudgetPeriod;
  periodStart: Date;
  currency: string;
}

export interface SpendRow {
  spentMicros: bigint;
  uncounted: number;
  notified80: boolean;
  notified100: boolean;
}

export interface BudgetRow extends BudgetLimit {
  updatedAt: Date;
}

export interface BudgetStore {
  /** The account's budgets, from memory (DAILY first). */
  cached(accountId: string): Promise<readonly BudgetLimit[]>;
  /** The account's budgets as the database has them now, on `db` (a send's transaction). */
  list(db: Db, accountId: string): Promise<BudgetRow[]>;
  /**
   * Sets (creates or replaces) the budget of its period; announces the change. `also` runs in
   * the same transaction with the row before and after (the audit entry).
   */
  set(accountId: string, budget: BudgetLimit, also?: (tx: Tx, before: BudgetRow | null, after: BudgetRow) => Promise<void>): Promise<BudgetRow>;
  /** Removes the budget of a period; false when there was none. `also` as for `set`. */
  remove(accountId: string, period: BudgetPeriod, also?: (tx: Tx, before: BudgetRow) => Promise<void>): Promise<boolean>;
  /** Creates the spend row if missing and locks it until `tx` ends; returns what it holds. */
  lockSpend(tx: Tx, key: SpendKey): Promise<SpendRow>;
  /** Writes the locked spend row's new values. */
  saveSpend(tx: Tx, key: SpendKey, row: SpendRow): Promise<void>;
  /** Spend rows of these periods (for the budgets query); a missing row is nothing spent. */
  spends(accountId: string, keys: readonly Omit<SpendKey, 'accountId'>[]): Promise<Map<string, SpendRow>>;
  /** The enabled endpoints of the account subscribed to `eventType`, on `tx`. */
  subscribedEndpoints(tx: Tx, accountId: string, eventType: string): Promise<string[]>;
  /** Outbox rows written in `tx`: the event commits with the spend change or not at all. */
  writeDeliveries(tx: Tx, rows: { endpointId: string; eventId: string; eventType: string; payload: string }[]): Promise<void>;
}

export const spendKeyText = (k: Omit<SpendKey, 'accountId'>) => `${k.period} ${k.periodStart.toISOString()} ${k.currency}`;

const toLimit = (row: { period: string; currency: string; limitMicros: bigint }): BudgetLimit => ({
  period: row.period as BudgetPeriod,
  currency: row.currency,
  limitMicros: row.limitMicros,
});

export function createBudgetStore(prisma: PrismaClient): BudgetStore {
  const list = async (db: Db, accountId: string): Promise<BudgetRow[]> => {
    const rows = await db.budget.findMany({ where: { accountId }, orderBy: { period: 'asc' } });
    return rows.map((r) => ({ ...toLimit(r), updatedAt: r.updatedAt }));
  };
  const cache = cachedReads<readonly BudgetLimit[]>({
    kind: 'budgets',
    ttlMs: BUDGETS_TTL_MS,
    load: async (accountId) => (await list(prisma, accountId)).map(toLimit),
  });

  return {
    cached: (accountId) => cache.get(accountId),
    list,

    async set(accountId, budget, also) {
      const data = { currency: budget.currency, limitMicros: budget.limitMicros };
      const where = { accountId_period: { accountId, period: budget.period } };
      const saved = await prisma.$transaction(async (tx) => {
        const before = await tx.budget.findUnique({ where });
        const row = await tx.budget.upsert({ where, create: { accountId, period: budget.period, ...data }, update: data });
        const after = { ...toLimit(row), updatedAt: row.updatedAt };
        await also?.(tx, before && { ...toLimit(before), updatedAt: before.updatedAt }, after);
        return after;
      });
      await announceChange(prisma, 'budgets', accountId);
      return saved;
    },

    async remove(accountId, period, also) {
      const removed = await prisma.$transaction(async (tx) => {
        const before = await tx.budget.findUnique({ where: { accountId_period: { accountId, period } } });
        if (!before) return false;
        await tx.budget.delete({ where: { accountId_period: { accountId, period } } });
        await also?.(tx, { ...toLimit(before), updatedAt: before.updatedAt });
        return true;
      });
      if (removed) await announceChange(prisma, 'budgets', accountId);
      return removed;
    },

    async lockSpend(tx, k) {
      // ON CONFLICT DO UPDATE locks the existing row (waiting for a concurrent holder) and returns
      // its latest committed values; a new row is locked by its insert.
      const [row] = await tx.$queryRaw<SpendRow[]>`
        INSERT INTO "BudgetSpend" ("accountId", period, "periodStart", currency, "updatedAt")
        VALUES (${k.accountId}::uuid, ${k.period}, ${k.periodStart}, ${k.currency}, now())
        ON CONFLICT ("accountId", period, "periodStart", currency) DO UPDATE SET "updatedAt" = "BudgetSpend"."updatedAt"
        RETURNING "spentMicros", uncounted, "notified80", "notified100"`;
      return row!;
    },

    async saveSpend(tx, k, row) {
      await tx.$executeRaw`
        UPDATE "BudgetSpend" SET "spentMicros" = ${row.spentMicros}, uncounted = ${row.uncounted},
          "notified80" = ${row.notified80}, "notified100" = ${row.notified100}, "updatedAt" = now()
        WHERE "accountId" = ${k.accountId}::uuid AND period = ${k.period} AND "periodStart" = ${k.periodStart} AND currency = ${k.currency}`;
    },

    async spends(accountId, keys) {
      if (keys.length === 0) return new Map();
      const rows = await prisma.budgetSpend.findMany({
        where: { accountId, OR: keys.map((k) => ({ period: k.period, periodStart: k.periodStart, currency: k.currency })) },
      });
      return new Map(rows.map((r) => [spendKeyText({ period: r.period as BudgetPeriod, periodStart: r.periodStart, currency: r.currency }), r]));
    },

    async subscribedEndpoints(tx, accountId, eventType) {
      const rows = await tx.webhookEndpoint.findMany({ where: { accountId, enabled: true, eventTypes: { has: eventType } }, select: { id: true } });
      return rows.map((r) => r.id);
    },

    async writeDeliveries(tx, rows) {
      if (rows.length) await tx.webhookDelivery.createMany({ data: rows.map((r) => ({ id: uuidv7(), ...r })) });
    },
  };
}

// The actual-cost fetcher's statements (dispatch/actual-cost.ts): messages in a final status whose
// provider reports what it charged, claimed a few at a time (FOR UPDATE SKIP LOCKED, so several
// instances share the work), and the amounts written back. The partial index
// Message_actual_cost_pending_idx (provider, sentAt, only rows without a cost) keeps the claim a
// short range read. Writing a cost leaves "updatedAt" alone: it is not a status change, and
// messageStats' rollup reads "updatedAt" for late status changes.
import type { PrismaClient } from '../db/database.js';
import type { Money } from '../domain/money.js';
import { finalStatuses } from '../domain/status-machine.js';

/** A message to ask its provider's charge for. */
export interface CostDueRow {
  id: string;
  to: string;
  provider: string;
  providerMessageId: string;
  sentAt: Date;
  /** Asks made so far, this one included. */
  checks: number;
}

export interface CostClaim {
  /** Providers that report a cost (the only ones asked about). */
  providers: readonly string[];
  /** Messages sent before this are no longer asked about (ACTUAL_COST_WINDOW_MS). */
  sentAfter: Date;
  /** The wait after the first ask; each later one waits `growth` times longer. */
  retryMs: number;
  growth: number;
  /** A message asked this many times is not asked again. */
  maxChecks: number;
  limit: number;
}

export interface ActualCostStore {
  /**
   * Claims up to `limit` messages in a final status, sent by one of `providers` after
   * `sentAfter`, without a cost, asked fewer than `maxChecks` times and not within their backoff
   * (retryMs × growth^(asks − 1) since the last ask), marking them asked at `at`.
   */
  claimDue(at: Date, claim: CostClaim): Promise<CostDueRow[]>;
  /** Writes the costs learned at `at`; a message that already has one keeps it. Returns how many were written. */
  record(at: Date, costs: readonly { id: string; cost: Money }[]): Promise<number>;
  /** Stops asking about these messages (their provider will never report a cost for them). */
  giveUp(ids: readonly string[], maxChecks: number): Promise<void>;
}

const FINAL = finalStatuses.filter((s) => s !== 'CANCELED');

export function createActualCostStore(prisma: PrismaClient): ActualCostStore {
  return {
    async claimDue(at, c) {
      if (c.providers.length === 0 || c.limit <= 0) return [];
      // The backoff in milliseconds, as a double: retryMs × growth^(asks − 1).
      return prisma.$queryRaw<CostDueRow[]>`
        UPDATE "Message" SET "actualCostCheckedAt" = ${at}, "actualCostChecks" = "actualCostChecks" + 1
        WHERE id IN (SELECT id FROM "Message"
                     WHERE provider = ANY(${c.providers as string[]}::text[]) AND "sentAt" > ${c.sentAfter}
                       AND "actualCostAt" IS NULL AND "providerMessageId" IS NOT NULL
                       AND status::text = ANY(${FINAL}::text[])
                       AND "actualCostChecks" < ${c.maxChecks}
                       AND ("actualCostCheckedAt" IS NULL
                            OR "actualCostCheckedAt" <= ${at}::timestamptz - make_interval(secs => ${c.retryMs / 1000}::float8 * power(${c.growth}::float8, "actualCostChecks" - 1)))
                     ORDER BY "sentAt" LIMIT ${c.limit} FOR UPDATE SKIP LOCKED)
        RETURNING id::text, "to", provider, "providerMessageId", "sentAt", "actualCostChecks" AS checks`;
    },

    async record(at, costs) {
      if (costs.length === 0) return 0;
      return prisma.$executeRaw`
        UPDATE "Message" AS m SET "actualCostMicros" = u.micros::bigint, "actualCostCurrency" = u.currency, "actualCostAt" = ${at}
        FROM unnest(${costs.map((c) => c.id)}::uuid[], ${costs.map((c) => c.cost.micros.toString())}::text[], ${costs.map((c) => c.cost.currency)}::text[])
             AS u(id, micros, currency)
        WHERE m.id = u.id AND m."actualCostAt" IS NULL`;
    },

    async giveUp(ids, maxChecks) {
      if (ids.length === 0) return;
      await prisma.$executeRaw`UPDATE "Message" SET "actualCostChecks" = GREATEST("actualCostChecks", ${maxChecks}) WHERE id = ANY(${ids as string[]}::uuid[])`;
    },
  };
}

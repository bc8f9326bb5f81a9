// Retention's statements (services/retention.ts runs them): each removes or blanks at most `limit`
// rows past a cutoff, in a short transaction of its own, so no lock is held long and sends never
// wait on it. Each takes RETENTION_LOCK, so one instance at a time does the work; deleting
// messages also takes the stats rollup's lock (LOCK_KEY), so no roll sees half a day.
import type { PrismaClient } from '../db/database.js';
import { DEFAULT_RETENTION, type RetentionPeriods } from '../domain/retention.js';
import { Prisma } from '../generated/prisma/client.js';
import { LOCK_KEY as ROLLUP_LOCK } from './message-stats-rollup.js';

const RETENTION_LOCK = Prisma.raw(`hashtextextended('herald:retention', 0)`);
export type Tx = Prisma.TransactionClient;

export interface RetentionStore {
  policy(accountId: string): Promise<RetentionPeriods & { isDefault: boolean }>;
  /** Writes the periods and hands the periods they replace to `also`, on one transaction. */
  setPolicy(accountId: string, periods: RetentionPeriods, also?: (tx: Tx, before: RetentionPeriods) => Promise<void>): Promise<void>;
  /** Every account with its periods (the defaults where it set none). */
  accounts(): Promise<(RetentionPeriods & { accountId: string })[]>;
  /** Blanks bodies of messages and replies created before `cutoff`; null when another instance holds the lock. */
  redactBodies(accountId: string, cutoff: Date, limit: number): Promise<number | null>;
  /**
   * Deletes messages of whole UTC days before `cutoff` whose stats are rolled up and clean (the
   * day is marked purged first), and replies before `cutoff`.
   */
  deleteRecords(accountId: string, cutoff: Date, limit: number): Promise<number | null>;
  /** Deletes verifications before `cutoff` and clears the sealed codes of messages sent before it. */
  deleteVerifications(accountId: string, cutoff: Date, limit: number): Promise<number | null>;
  /** Deletes finished webhook deliveries (and their attempts) created before `cutoff`. */
  deleteWebhookLogs(accountId: string, cutoff: Date, limit: number): Promise<number | null>;
}

export function createRetentionStore(prisma: PrismaClient): RetentionStore {
  const doneBefore: DoneBefore = new Map();
  async function locked(work: (tx: Tx) => Promise<number>, alsoRollup = false): Promise<number | null> {
    return prisma.$transaction(async (tx) => {
      const [{ ok }] = await tx.$queryRaw<[{ ok: boolean }]>`SELECT pg_try_advisory_xact_lock(${RETENTION_LOCK}) AS ok`;
      if (!ok) return null;
      if (alsoRollup) {
        const [{ ok: rollup }] = await tx.$queryRaw<[{ ok: boolean }]>`SELECT pg_try_advisory_xact_lock(${ROLLUP_LOCK}) AS ok`;
        if (!rollup) return null;
      }
      return work(tx);
    });
  }

  return {
    async policy(accountId) {
      const row = await prisma.retentionPolicy.findUnique({ where: { accountId } });
      return row ? { bodyDays: row.bodyDays, recordDays: row.recordDays, verificationDays: row.verificationDays, webhookLogDays: row.webhookLogDays, isDefault: false } : { ...DEFAULT_RETENTION, isDefault: true };
    },

    async setPolicy(accountId, periods, also) {
      await prisma.$transaction(async (tx) => {
        const before = await tx.retentionPolicy.findUnique({ where: { accountId } });
        await tx.retentionPolicy.upsert({ where: { accountId }, create: { accountId, ...periods }, update: periods });
        await also?.(tx, before ? pick(before) : DEFAULT_RETENTION);
      });
    },

    async accounts() {
      const rows = await prisma.account.findMany({ select: { id: true, retention: true } });
      return rows.map((a) => ({ accountId: a.id, ...(a.retention ? pick(a.retention) : DEFAULT_RETENTION) }));
    },

    async redactBodies(accountId, cutoff, limit) {
      const marks = new Marks(doneBefore, accountId);
      const done = await locked(async (tx) => {
        // "updatedAt" is left alone: blanking a body changes no status, so no stats day is marked.
        const messages = marks.note('message-body', await tx.$queryRaw<Done[]>`
          UPDATE "Message" SET body = '', variables = NULL, "sealedBody" = NULL, "sealedVariables" = NULL, "redactedAt" = now()
          WHERE id IN (
            SELECT id FROM "Message" WHERE "accountId" = ${accountId}::uuid AND "createdAt" >= ${marks.from('message-body')} AND "createdAt" < ${cutoff} AND "redactedAt" IS NULL
            ORDER BY "createdAt" LIMIT ${limit})
          RETURNING "createdAt"`);
        const replies = marks.note('reply-body', await tx.$queryRaw<Done[]>`
          UPDATE "InboundMessage" SET body = '', "redactedAt" = now()
          WHERE id IN (
            SELECT id FROM "InboundMessage" WHERE "accountId" = ${accountId}::uuid AND "createdAt" >= ${marks.from('reply-body')} AND "createdAt" < ${cutoff} AND "redactedAt" IS NULL
            ORDER BY "createdAt" LIMIT ${limit})
          RETURNING "createdAt"`);
        return messages + replies;
      });
      if (done !== null) marks.commit();
      return done;
    },

    deleteRecords: (accountId, cutoff, limit) =>
      locked(async (tx) => {
        // The oldest day before the cutoff that still has messages, if its rollup is clean.
        const [day] = await tx.$queryRaw<{ day: string; rolled: boolean }[]>`
          SELECT to_char(x.day, 'YYYY-MM-DD') AS day, (d.day IS NOT NULL AND NOT d.dirty) AS rolled
          FROM (
            SELECT ("createdAt" AT TIME ZONE 'UTC')::date AS day FROM "Message"
            WHERE "accountId" = ${accountId}::uuid AND "createdAt" < (((${cutoff}::timestamptz AT TIME ZONE 'UTC')::date)::timestamp AT TIME ZONE 'UTC')
            ORDER BY "createdAt" LIMIT 1
          ) x
          LEFT JOIN "MessageStatsDay" d ON d."accountId" = ${accountId}::uuid AND d.day = x.day`;
        let messages = 0;
        if (day?.rolled) {
          await tx.$executeRaw`
            UPDATE "MessageStatsDay" SET "purgedAt" = coalesce("purgedAt", now()) WHERE "accountId" = ${accountId}::uuid AND day = ${day.day}::date`;
          messages = await tx.$executeRaw`
            DELETE FROM "Message" WHERE id IN (
              SELECT id FROM "Message" WHERE "accountId" = ${accountId}::uuid
                AND "createdAt" >= (${day.day}::date::timestamp AT TIME ZONE 'UTC') AND "createdAt" < ((${day.day}::date + 1)::timestamp AT TIME ZONE 'UTC')
              LIMIT ${limit})`;
        }
        const replies = await tx.$executeRaw`
          DELETE FROM "InboundMessage" WHERE id IN (
            SELECT id FROM "InboundMessage" WHERE "accountId" = ${accountId}::uuid AND "createdAt" < ${cutoff} ORDER BY "createdAt" LIMIT ${limit})`;
        return messages + replies;
      }, true),

    async deleteVerifications(accountId, cutoff, limit) {
      const marks = new Marks(doneBefore, accountId);
      const done = await locked(async (tx) => {
        const verifications = await tx.$executeRaw`
          DELETE FROM "Verification" WHERE id IN (
            SELECT id FROM "Verification" WHERE "accountId" = ${accountId}::uuid AND "createdAt" < ${cutoff} ORDER BY "createdAt" LIMIT ${limit})`;
        const codes = marks.note('sealed-code', await tx.$queryRaw<Done[]>`
          UPDATE "Message" SET "sealedBody" = NULL, "sealedVariables" = NULL
          WHERE id IN (
            SELECT id FROM "Message" WHERE "accountId" = ${accountId}::uuid AND "createdAt" >= ${marks.from('sealed-code')} AND "createdAt" < ${cutoff} AND "sealedBody" IS NOT NULL
            ORDER BY "createdAt" LIMIT ${limit})
          RETURNING "createdAt"`);
        return verifications + codes;
      });
      if (done !== null) marks.commit();
      return done;
    },

    deleteWebhookLogs: (accountId, cutoff, limit) =>
      locked(
        (tx) => tx.$executeRaw`
          DELETE FROM "WebhookDelivery" WHERE id IN (
            SELECT d.id FROM "WebhookDelivery" d JOIN "WebhookEndpoint" e ON e.id = d."endpointId"
            WHERE e."accountId" = ${accountId}::uuid AND d.status <> 'PENDING' AND d."createdAt" < ${cutoff}
            ORDER BY d."createdAt" LIMIT ${limit})`,
      ),
  };
}

type Done = { createdAt: Date };
type Scan = 'message-body' | 'reply-body' | 'sealed-code';

// Where each "blank what is not blank yet" scan has got to, per account. Rows created before the
// mark are done and stay done (new rows are never older), so the next batch starts there rather
// than walking past every row blanked before: after a year at 90-day bodies, that is most of the
// account's messages on every batch. Kept in memory, per store: a restarted process walks them once.
type DoneBefore = Map<string, Date>;

/** One pass's reading and moving of the marks; moved only once its transaction has committed. */
class Marks {
  private readonly moved = new Map<string, Date>();
  constructor(
    private readonly doneBefore: DoneBefore,
    private readonly accountId: string,
  ) {}

  from(scan: Scan): Date {
    return this.doneBefore.get(`${scan}:${this.accountId}`) ?? new Date(0);
  }

  /** Notes the newest row a batch blanked (ties with it are scanned again: `>=`); the count. */
  note(scan: Scan, rows: Done[]): number {
    let newest = this.from(scan);
    for (const row of rows) if (row.createdAt > newest) newest = row.createdAt;
    this.moved.set(`${scan}:${this.accountId}`, newest);
    return rows.length;
  }

  commit(): void {
    for (const [key, at] of this.moved) this.doneBefore.set(key, at);
  }
}

function pick(row: RetentionPeriods): RetentionPeriods {
  return { bodyDays: row.bodyDays, recordDays: row.recordDays, verificationDays: row.verificationDays, webhookLogDays: row.webhookLogDays };
}

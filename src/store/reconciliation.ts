// The reconciler's statements: SENT messages whose delivery report is overdue. Both claim rows
// with FOR UPDATE SKIP LOCKED, so several instances share the work.
import type { PrismaClient } from '../db/database.js';
import type { QualityRecorder } from '../domain/provider-quality.js';
import type { MovedRow } from './dispatch-queue.js';

/** A SENT message to ask its provider about. */
export interface OverdueRow {
  id: string;
  to: string;
  provider: string | null;
  providerMessageId: string | null;
  sentAt: Date;
}

export interface ReconciliationStore {
  /**
   * Claims SENT messages sent before `due` and not asked about since (at most `limit`), marking
   * them asked at `at`: each message is asked about at most once per RECONCILE_AFTER_MS.
   */
  claimOverdue(at: Date, due: Date, limit: number): Promise<OverdueRow[]>;
  /**
   * Makes SENT messages sent before `deadline` EXPIRED (`statusSynthetic`: Herald's inference)
   * with `errorMessage`, and records their events with `rawStatus`; returns those moved.
   */
  expireSentBefore(deadline: Date, at: Date, limit: number, errorMessage: string, rawStatus: string): Promise<MovedRow[]>;
}

/** `quality` counts each synthetic expiry as a report missing for the message's provider and country. */
export function createReconciliationStore(prisma: PrismaClient, quality?: QualityRecorder): ReconciliationStore {
  return {
    claimOverdue(at, due, limit) {
      return prisma.$queryRaw<OverdueRow[]>`
        UPDATE "Message" SET "reconciledAt" = ${at}
        WHERE id IN (SELECT id FROM "Message"
                     WHERE status = 'SENT' AND "sentAt" <= ${due} AND ("reconciledAt" IS NULL OR "reconciledAt" <= ${due})
                     ORDER BY "sentAt" LIMIT ${limit} FOR UPDATE SKIP LOCKED)
        RETURNING id::text, "to", provider, "providerMessageId", "sentAt"`;
    },

    async expireSentBefore(deadline, at, limit, errorMessage, rawStatus) {
      // The expiry and its event in one statement, so in one transaction: the outgoing-webhook
      // outbox relays events, and an expiry whose event a crash had lost would never be told.
      const rows = await prisma.$queryRaw<(MovedRow & { to: string; provider: string | null })[]>`
        WITH moved AS (
          UPDATE "Message" SET status = 'EXPIRED', "statusSynthetic" = true, "errorCode" = 'EXPIRED',
            "errorMessage" = ${errorMessage}, "updatedAt" = ${at}
          WHERE id IN (SELECT id FROM "Message" WHERE status = 'SENT' AND "sentAt" <= ${deadline}
                       ORDER BY "sentAt" LIMIT ${limit} FOR UPDATE SKIP LOCKED)
          RETURNING id, "accountId", "batchId", "to", provider
        ), logged AS (
          INSERT INTO "MessageEvent" ("messageId", status, source, "rawStatus", "errorCode", applied, at)
          SELECT id, 'EXPIRED'::"MessageStatus", 'DISPATCHER', ${rawStatus}, 'EXPIRED', true, ${at} FROM moved
        )
        SELECT id::text, "accountId"::text, "batchId"::text, "to", provider FROM moved`;
      for (const row of rows) if (row.provider) quality?.recordDelivery(row.provider, row.to, 'missing');
      // Only what MovedRow says: the rows are published as status changes.
      return rows.map(({ id, accountId, batchId }) => ({ id, accountId, batchId }));
    },
  };
}

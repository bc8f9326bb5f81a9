// Reconciliation: SENT messages whose delivery report is overdue.
//
// After RECONCILE_AFTER_MS the provider is asked (queryStatus: Twilio message fetch, Aliyun
// QuerySendDetails, Tencent PullSmsSendStatusByPhoneNumber) and its answer is applied like a
// webhook report. After DELIVERY_REPORT_DEADLINE_MS (default 72 h) a message still SENT becomes
// EXPIRED with `statusSynthetic` set: Herald's inference, not the carrier's word, so a real
// report arriving later may still correct it (status machine, `corrected`).
//
// Both steps claim rows with FOR UPDATE SKIP LOCKED, so several instances share the work.
import type { PrismaClient } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { ProviderPool } from '../providers/provider-pool.js';
import type { StatusChange } from '../pubsub.js';
import { applyOneReport } from './reports.js';

export interface ReconcilerOptions {
  afterMs: number;
  deadlineMs: number;
  intervalMs: number;
  batchSize?: number;
}

export interface ReconcileRound {
  /** Messages the provider was asked about. */
  polled: number;
  /** Of those, how many changed status from the answer. */
  updated: number;
  /** Messages made EXPIRED (synthetic) at the deadline. */
  expired: number;
}

export interface Reconciler {
  runOnce(): Promise<ReconcileRound>;
  start(): void;
  stop(): Promise<void>;
}

/** The rawStatus of the event recording a synthetic expiry. */
export const SYNTHETIC_EXPIRY = 'NO_REPORT_BEFORE_DEADLINE';

export function createReconciler(deps: {
  prisma: PrismaClient;
  pool: Pick<ProviderPool, 'get'>;
  publish: (changes: StatusChange[]) => void;
  logger: Logger;
  options: ReconcilerOptions;
  now?: () => Date;
}): Reconciler {
  const { prisma, options, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const batchSize = options.batchSize ?? 200;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<unknown> | undefined;

  async function expireOverdue(at: Date): Promise<number> {
    const deadline = new Date(at.getTime() - options.deadlineMs);
    const hours = Math.round(options.deadlineMs / 3_600_000);
    const rows = await prisma.$queryRaw<{ id: string; accountId: string; batchId: string | null }[]>`
      UPDATE "Message" SET status = 'EXPIRED', "statusSynthetic" = true, "errorCode" = 'EXPIRED',
        "errorMessage" = ${`no delivery report within ${hours} h of sending`}, "updatedAt" = ${at}
      WHERE id IN (SELECT id FROM "Message" WHERE status = 'SENT' AND "sentAt" <= ${deadline}
                   ORDER BY "sentAt" LIMIT ${batchSize} FOR UPDATE SKIP LOCKED)
      RETURNING id::text, "accountId"::text, "batchId"::text`;
    if (rows.length === 0) return 0;
    await prisma.messageEvent.createMany({
      data: rows.map((r) => ({ messageId: r.id, status: 'EXPIRED' as const, source: 'DISPATCHER', rawStatus: SYNTHETIC_EXPIRY, errorCode: 'EXPIRED', at })),
    });
    deps.publish(rows.map((r) => ({ ...r, status: 'EXPIRED' as const })));
    return rows.length;
  }

  async function pollOverdue(at: Date): Promise<{ polled: number; updated: number }> {
    const due = new Date(at.getTime() - options.afterMs);
    // Each message is asked about at most once per RECONCILE_AFTER_MS.
    const rows = await prisma.$queryRaw<{ id: string; to: string; provider: string | null; providerMessageId: string | null; sentAt: Date }[]>`
      UPDATE "Message" SET "reconciledAt" = ${at}
      WHERE id IN (SELECT id FROM "Message"
                   WHERE status = 'SENT' AND "sentAt" <= ${due} AND ("reconciledAt" IS NULL OR "reconciledAt" <= ${due})
                   ORDER BY "sentAt" LIMIT ${batchSize} FOR UPDATE SKIP LOCKED)
      RETURNING id::text, "to", provider, "providerMessageId", "sentAt"`;
    let polled = 0;
    let updated = 0;
    for (const row of rows) {
      const provider = row.provider ? deps.pool.get(row.provider) : undefined;
      if (!provider?.queryStatus || !row.providerMessageId) continue;
      polled++;
      try {
        const report = await provider.queryStatus({ id: row.id, to: row.to, providerMessageId: row.providerMessageId, sentAt: row.sentAt });
        if (!report) continue;
        const change = await applyOneReport(prisma, row.id, provider.name, report, at);
        if (change) {
          updated++;
          deps.publish([change]);
        }
      } catch (error) {
        logger.warn({ err: error, messageId: row.id, provider: provider.name }, 'status query failed; asking again later');
      }
    }
    return { polled, updated };
  }

  async function runOnce(): Promise<ReconcileRound> {
    const at = now();
    const { polled, updated } = await pollOverdue(at);
    return { polled, updated, expired: await expireOverdue(at) };
  }

  return {
    runOnce,
    start() {
      if (timer) return;
      timer = setInterval(() => {
        if (round) return; // the previous round is still going
        round = runOnce()
          .catch((error: unknown) => logger.error({ err: error }, 'reconciliation round failed'))
          .finally(() => (round = undefined));
      }, options.intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await round;
    },
  };
}

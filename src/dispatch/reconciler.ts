// Reconciliation: SENT messages whose delivery report is overdue.
//
// After RECONCILE_AFTER_MS the provider is asked (queryStatus: Twilio message fetch, Aliyun
// QuerySendDetails, Tencent PullSmsSendStatusByPhoneNumber) and its answer is applied like a
// webhook report. After DELIVERY_REPORT_DEADLINE_MS (default 72 h) a message still SENT becomes
// EXPIRED with `statusSynthetic` set: Herald's inference, not the carrier's word, so a real
// report arriving later may still correct it (status machine, `corrected`).
//
// Both steps claim rows with FOR UPDATE SKIP LOCKED, so several instances share the work.
import { createBackgroundLoop } from '../concurrency/background-loop.js';
import type { Logger } from '../logging/logger.js';
import type { ProviderPool } from '../providers/provider-pool.js';
import type { StatusChange } from '../pubsub/pubsub.js';
import type { MessageStatusStore } from '../store/message-status.js';
import type { ReconciliationStore } from '../store/reconciliation.js';
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
  /** The background side of the store. */
  store: { reconciliation: ReconciliationStore; messageStatus: MessageStatusStore };
  pool: Pick<ProviderPool, 'get'>;
  publish: (changes: StatusChange[]) => void;
  logger: Logger;
  options: ReconcilerOptions;
  now?: () => Date;
}): Reconciler {
  const { store, options, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const batchSize = options.batchSize ?? 200;

  async function expireOverdue(at: Date): Promise<number> {
    const deadline = new Date(at.getTime() - options.deadlineMs);
    const hours = Math.round(options.deadlineMs / 3_600_000);
    const rows = await store.reconciliation.expireSentBefore(deadline, at, batchSize, `no delivery report within ${hours} h of sending`, SYNTHETIC_EXPIRY);
    if (rows.length > 0) deps.publish(rows.map((r) => ({ ...r, status: 'EXPIRED' as const })));
    return rows.length;
  }

  async function pollOverdue(at: Date): Promise<{ polled: number; updated: number }> {
    const rows = await store.reconciliation.claimOverdue(at, new Date(at.getTime() - options.afterMs), batchSize);
    let polled = 0;
    let updated = 0;
    for (const row of rows) {
      const provider = row.provider ? deps.pool.get(row.provider) : undefined;
      if (!provider?.queryStatus || !row.providerMessageId) continue;
      polled++;
      try {
        const report = await provider.queryStatus({ id: row.id, to: row.to, providerMessageId: row.providerMessageId, sentAt: row.sentAt });
        if (!report) continue;
        const change = await applyOneReport(store.messageStatus, row.id, provider.name, report, at);
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

  const loop = createBackgroundLoop({
    name: 'reconciler',
    pollMs: options.intervalMs,
    pass: async () => {
      await runOnce();
    },
    logger,
  });
  return { runOnce, start: loop.start, stop: loop.stop };
}

// Retention: the policy an ADMIN sets (domain/retention.ts says what is valid) and the background
// loop that applies every account's policy in small batches (store/retention.ts). The loop runs
// in every dispatching process; a database lock lets one instance at a time do the work, so with
// several instances it simply moves on whichever holds the lock.
import { createBackgroundLoop, type BackgroundLoop } from '../concurrency/background-loop.js';
import { ValidationError } from '../domain/errors.js';
import { recordAudit, type AuditActor } from './audit.js';
import { applyRetentionChange, retentionCutoff, type RetentionPeriods } from '../domain/retention.js';
import type { Logger } from '../logging/logger.js';
import { metrics } from '../metrics/metrics.js';
import type { RetentionStore } from '../store/retention.js';

export type RetentionKind = 'bodies' | 'records' | 'verifications' | 'webhook-logs';

/** Rows per statement: small enough that a batch holds its row locks for milliseconds. */
export const RETENTION_BATCH = 500;
/** A pass stops after this long and asks for the next one at once. */
const PASS_BUDGET_MS = 5_000;

export async function setRetentionPolicy(
  store: RetentionStore,
  accountId: string,
  change: unknown,
  audit?: AuditActor,
): Promise<(RetentionPeriods & { isDefault: boolean }) | ValidationError> {
  const { isDefault: _, ...current } = await store.policy(accountId);
  const next = applyRetentionChange(current, change);
  if (next instanceof ValidationError) return next;
  await store.setPolicy(accountId, next, audit && ((tx, before) => recordAudit(tx, audit, { action: 'retention.set', subjectId: accountId, before, after: next })));
  return { ...next, isDefault: false };
}

/**
 * One pass over every account: for each kind with a period, batches until none is left or the
 * pass's time is up. Returns the rows done by kind, and whether work may be left.
 */
export async function runRetentionPass(store: RetentionStore, now = new Date(), batch = RETENTION_BATCH, budgetMs = PASS_BUDGET_MS) {
  const started = Date.now();
  const done: Record<RetentionKind, number> = { bodies: 0, records: 0, verifications: 0, 'webhook-logs': 0 };
  let locked = false;
  for (const account of await store.accounts()) {
    const work: [RetentionKind, number | null, (cutoff: Date) => Promise<number | null>][] = [
      // Bodies before records: a record past both periods is blanked, then deleted.
      ['bodies', account.bodyDays, (c) => store.redactBodies(account.accountId, c, batch)],
      ['records', account.recordDays, (c) => store.deleteRecords(account.accountId, c, batch)],
      ['verifications', account.verificationDays, (c) => store.deleteVerifications(account.accountId, c, batch)],
      ['webhook-logs', account.webhookLogDays, (c) => store.deleteWebhookLogs(account.accountId, c, batch)],
    ];
    for (const [kind, days, run] of work) {
      const cutoff = retentionCutoff(now, days);
      if (!cutoff) continue;
      for (;;) {
        if (Date.now() - started > budgetMs) return { done, more: true, locked };
        const n = await run(cutoff);
        if (n === null) {
          locked = true; // another instance is at it
          break;
        }
        done[kind] += n;
        metrics.retentionRows.inc({ kind }, n);
        if (n === 0) break;
      }
    }
  }
  return { done, more: false, locked };
}

/**
 * The loop. Its first pass comes one interval after start, not at start: a restart never begins
 * with a burst of deletions (an upgrade that brings retention to old data starts within the hour).
 */
export function createRetentionLoop(options: { store: RetentionStore; logger: Logger; pollMs: number }): BackgroundLoop {
  let first = true;
  return createBackgroundLoop({
    name: 'retention',
    pollMs: options.pollMs,
    logger: options.logger,
    pass: async () => {
      if (first) {
        first = false;
        return false;
      }
      const result = await runRetentionPass(options.store);
      const total = Object.values(result.done).reduce((a, b) => a + b, 0);
      if (total > 0) options.logger.info({ ...result.done }, 'retention pass');
      if (!result.locked) metrics.retentionLastPass.set(Date.now() / 1000);
      return result.more;
    },
  });
}

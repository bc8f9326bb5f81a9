// Provider delivery reports → message status. Idempotent: a duplicate, late or out-of-order
// report is recorded as an event and moves nothing (the status machine decides).
import { isUuid } from '../domain/ids.js';
import { applyReport, isFinal } from '../domain/status-machine.js';
import type { StatusReport } from '../providers/types.js';
import type { StatusChange } from '../pubsub/pubsub.js';
import type { Decision, LockedMessage, MessageChanges, MessageStatusStore } from '../store/message-status.js';
import type { ReportStore } from '../store/reports.js';

/** Where reports are applied: the store's, or its background side's (the same members). */
export interface ReportStores {
  messageStatus: MessageStatusStore;
  reports: ReportStore;
}

export interface ReportOutcome {
  changes: StatusChange[];
  /** Reports kept for later: the provider's id is not recorded on any message yet. */
  deferred: number;
  /** Reports about nothing Herald knows and that cannot be correlated later. */
  unknown: number;
}

export async function applyStatusReports(store: ReportStores, provider: string, reports: StatusReport[], now = new Date()): Promise<ReportOutcome> {
  const outcome: ReportOutcome = { changes: [], deferred: 0, unknown: 0 };
  // Our own id as the reference: applied straight away, every such report of the request asked
  // for in one turn so that they share one transaction (message-status.ts groups a turn's
  // changes and applies them in the order asked: a message's reports keep their order).
  // Undefined: no such row, so the report is looked up by the provider's id below instead.
  const byReference = await Promise.all(
    reports.map((report) => (report.reference && isUuid(report.reference) ? applyOneReport(store.messageStatus, report.reference, provider, report, now) : undefined)),
  );
  const rest: StatusReport[] = [];
  reports.forEach((report, i) => {
    const change = byReference[i];
    if (change) outcome.changes.push(change);
    else if (change === undefined) rest.push(report);
  });
  for (const report of rest) {
    const messageId = report.providerMessageId ? await store.reports.findMessageId(provider, report.providerMessageId) : undefined;
    if (!messageId) {
      // The report overtook the dispatcher: the provider answered the webhook before we stored
      // its id. Keep it; recordSubmission applies it once the id is known (Jasmin drops these).
      if (report.providerMessageId) {
        await store.reports.keepPending(provider, report.providerMessageId, report);
        outcome.deferred++;
      } else {
        outcome.unknown++;
      }
      continue;
    }
    const change = await applyOneReport(store.messageStatus, messageId, provider, report, now);
    if (change) outcome.changes.push(change);
  }
  return outcome;
}

/** The change to publish, null when the report moved nothing, undefined when there is no such message. */
export function applyOneReport(messageStatus: MessageStatusStore, messageId: string, provider: string, report: StatusReport, now = new Date()) {
  return messageStatus.change(messageId, decideReport(provider, report, now));
}

/** How one report changes a message (the status machine decides), for `messageStatus.change`. */
export function decideReport(provider: string, report: StatusReport, now: Date): (message: LockedMessage) => Decision {
  return (message) => {
    const { next, outcome } = applyReport(message.status, report, { synthetic: message.statusSynthetic });
    const data: MessageChanges = {};
    // The provider's own word, even a confirming EXPIRED, makes a synthetic status real.
    if (message.statusSynthetic && isFinal(report.status)) data.statusSynthetic = false;
    if (report.providerMessageId && !message.providerMessageId) {
      data.providerMessageId = report.providerMessageId;
      data.provider = provider;
    }
    if (next) {
      data.leaseUntil = isFinal(next) ? null : undefined;
      if (next === 'DELIVERED') data.deliveredAt = report.occurredAt ?? now;
      if (next === 'SENT') data.sentAt = report.occurredAt ?? now;
      if (outcome === 'corrected' && next === 'DELIVERED') {
        data.errorCode = null;
        data.errorMessage = null;
      }
      if (isFinal(next) && next !== 'DELIVERED') {
        data.errorCode = report.errorCode ?? report.rawErrorCode ?? next;
        data.errorMessage = `provider reported ${report.rawStatus}`;
      }
    }
    return {
      next,
      data: Object.keys(data).length ? data : undefined,
      event: {
        status: report.status,
        source: 'PROVIDER',
        provider,
        rawStatus: report.rawStatus,
        errorCode: report.errorCode ?? report.rawErrorCode ?? null,
      },
    };
  };
}

/** Applies reports that arrived before `providerMessageId` was recorded on the message. */
export async function applyPendingReports(store: Pick<ReportStores, 'reports'>, provider: string, providerMessageId: string, messageId: string): Promise<StatusChange[]> {
  if (!(await store.reports.hasPending(provider, providerMessageId))) return [];
  const pending = await store.reports.pendingFor(provider, providerMessageId);
  const changes: StatusChange[] = [];
  for (const row of pending) {
    const change = await store.reports.applyPending(row.id, messageId, decideReport(provider, row.report, new Date()));
    if (change) changes.push(change);
  }
  return changes;
}

/**
 * Safety net for the narrow race where a report was deferred just as the dispatcher recorded
 * the provider id (and found nothing pending yet): applies every pending report whose
 * provider id is now known. Run periodically by the dispatcher.
 */
export async function sweepPendingReports(store: Pick<ReportStores, 'reports'>): Promise<StatusChange[]> {
  const rows = await store.reports.correlatedPending(500);
  const changes: StatusChange[] = [];
  for (const row of rows) changes.push(...(await applyPendingReports(store, row.provider, row.providerMessageId, row.messageId)));
  return changes;
}

// Provider delivery reports → message status. Idempotent: a duplicate, late or out-of-order
// report is recorded as an event and moves nothing (the status machine decides).
import type { PrismaClient } from '../db/database.js';
import type { Prisma } from '../generated/prisma/client.js';
import { applyReport, isFinal } from '../domain/status-machine.js';
import type { StatusReport } from '../providers/types.js';
import type { StatusChange } from '../pubsub.js';
import { changeMessage, changeMessageIn, type Decision, type LockedMessage, type MessageChanges } from './message-store.js';
import { isUuid } from '../domain/ids.js';
import { hasPendingReports } from '../services/grouped-lookups.js';

export interface ReportOutcome {
  changes: StatusChange[];
  /** Reports kept for later: the provider's id is not recorded on any message yet. */
  deferred: number;
  /** Reports about nothing Herald knows and that cannot be correlated later. */
  unknown: number;
}

export async function applyStatusReports(prisma: PrismaClient, provider: string, reports: StatusReport[], now = new Date()): Promise<ReportOutcome> {
  const outcome: ReportOutcome = { changes: [], deferred: 0, unknown: 0 };
  for (const report of reports) {
    // Our own id as the reference: applied straight away (no row, no change: undefined).
    if (report.reference && isUuid(report.reference)) {
      const change = await applyOneReport(prisma, report.reference, provider, report, now);
      if (change !== undefined) {
        if (change) outcome.changes.push(change);
        continue;
      }
    }
    const messageId = await findByProviderId(prisma, provider, report);
    if (!messageId) {
      // The report overtook the dispatcher: the provider answered the webhook before we stored
      // its id. Keep it; recordSubmission applies it once the id is known (Jasmin drops these).
      if (report.providerMessageId) {
        await prisma.pendingStatusReport.create({
          data: { provider, providerMessageId: report.providerMessageId, report: serializeReport(report) },
        });
        outcome.deferred++;
      } else {
        outcome.unknown++;
      }
      continue;
    }
    const change = await applyOneReport(prisma, messageId, provider, report, now);
    if (change) outcome.changes.push(change);
  }
  return outcome;
}

/** The change to publish, null when the report moved nothing, undefined when there is no such message. */
export function applyOneReport(prisma: PrismaClient, messageId: string, provider: string, report: StatusReport, now = new Date()) {
  return changeMessage(prisma, messageId, decideReport(provider, report, now));
}

/** How one report changes a message (the status machine decides), for `changeMessage`. */
function decideReport(provider: string, report: StatusReport, now: Date): (message: LockedMessage) => Decision {
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

async function findByProviderId(prisma: PrismaClient, provider: string, report: StatusReport): Promise<string | undefined> {
  if (!report.providerMessageId) return undefined;
  const row = await prisma.message.findFirst({ where: { provider, providerMessageId: report.providerMessageId }, select: { id: true } });
  return row?.id;
}

/** Applies reports that arrived before `providerMessageId` was recorded on the message. */
export async function applyPendingReports(prisma: PrismaClient, provider: string, providerMessageId: string, messageId: string): Promise<StatusChange[]> {
  if (!(await hasPendingReports(prisma, provider, providerMessageId))) return [];
  const pending = await prisma.pendingStatusReport.findMany({ where: { provider, providerMessageId }, orderBy: { id: 'asc' } });
  const changes: StatusChange[] = [];
  for (const row of pending) {
    // Taking the report off the pending list and applying it commit together, so concurrent
    // appliers (the dispatcher recording a submission, the periodic sweep, other instances)
    // apply each report exactly once: the second waits on the row, then finds it gone.
    const change = await prisma.$transaction(async (tx) => {
      const taken = await tx.pendingStatusReport.deleteMany({ where: { id: row.id } });
      if (taken.count === 0) return null;
      return changeMessageIn(tx, messageId, decideReport(provider, deserializeReport(row.report), new Date()));
    });
    if (change) changes.push(change);
  }
  return changes;
}

function serializeReport(report: StatusReport): Prisma.InputJsonValue {
  return { ...report, occurredAt: report.occurredAt?.toISOString() } as Prisma.InputJsonValue;
}

function deserializeReport(value: Prisma.JsonValue): StatusReport {
  const raw = value as unknown as StatusReport & { occurredAt?: string };
  return { ...raw, occurredAt: raw.occurredAt ? new Date(raw.occurredAt) : undefined };
}

/**
 * Safety net for the narrow race where a report was deferred just as the dispatcher recorded
 * the provider id (and found nothing pending yet): applies every pending report whose
 * provider id is now known. Run periodically by the dispatcher.
 */
export async function sweepPendingReports(prisma: PrismaClient): Promise<StatusChange[]> {
  const rows = await prisma.$queryRaw<{ provider: string; providerMessageId: string; messageId: string }[]>`
    SELECT DISTINCT p.provider, p."providerMessageId", m.id::text AS "messageId"
    FROM "PendingStatusReport" p
    JOIN "Message" m ON m.provider = p.provider AND m."providerMessageId" = p."providerMessageId"
    LIMIT 500`;
  const changes: StatusChange[] = [];
  for (const row of rows) changes.push(...(await applyPendingReports(prisma, row.provider, row.providerMessageId, row.messageId)));
  return changes;
}

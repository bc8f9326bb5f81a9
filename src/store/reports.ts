// Delivery reports in the database: finding the message a provider's id belongs to, and the
// reports kept for later (PendingStatusReport) because they overtook the dispatcher: the
// provider answered the webhook before its id was recorded on the message.
import { z } from 'zod';
import { groupPerTurn } from '../concurrency/group-per-turn.js';
import type { PrismaClient } from '../db/database.js';
import { messageStatuses } from '../domain/status-machine.js';
import type { Prisma } from '../generated/prisma/client.js';
import { providerErrorCodes, type StatusReport } from '../providers/types.js';
import type { StatusChange } from '../pubsub/pubsub.js';
import type { QualityRecorder } from '../domain/provider-quality.js';
import { changeMessagesIn, recordOutcomes, type Decide, type QualityOutcome } from './message-status.js';

/** A report kept for later, as stored. */
export interface PendingReport {
  id: bigint;
  report: StatusReport;
}

/** A pending report whose provider id a message now has. */
export interface CorrelatedPending {
  provider: string;
  providerMessageId: string;
  messageId: string;
}

export interface ReportStore {
  /** The message that carries this provider's id, if one does yet. */
  findMessageId(provider: string, providerMessageId: string): Promise<string | undefined>;
  /** Keeps a report whose provider id no message carries yet. */
  keepPending(provider: string, providerMessageId: string, report: StatusReport): Promise<void>;
  /**
   * Whether any report waits for this provider id: asked once per submission recorded, so the
   * submissions recorded in one turn of the event loop share one query.
   */
  hasPending(provider: string, providerMessageId: string): Promise<boolean>;
  /** The reports waiting for this provider id, oldest first. */
  pendingFor(provider: string, providerMessageId: string): Promise<PendingReport[]>;
  /**
   * Takes one pending report off the list and applies `decide` to the message in the same
   * transaction. Null when another applier took the report first.
   */
  applyPending(pendingId: bigint, messageId: string, decide: Decide): Promise<StatusChange | null | undefined>;
  /** Pending reports whose provider id a message carries by now (at most `limit`). */
  correlatedPending(limit: number): Promise<CorrelatedPending[]>;
}

/** `quality` hears how deliveries ended, as in createMessageStatusStore. */
export function createReportStore(prisma: PrismaClient, quality?: QualityRecorder): ReportStore {
  const hasPendingInGroup = groupPerTurn<{ provider: string; providerMessageId: string }, boolean>(
    async (keys) => {
      const rows = await prisma.$queryRaw<CorrelatedKey[]>`
        SELECT DISTINCT p.provider, p."providerMessageId" FROM "PendingStatusReport" p
        JOIN unnest(${keys.map((k) => k.provider)}::text[], ${keys.map((k) => k.providerMessageId)}::text[]) AS k(provider, id)
          ON p.provider = k.provider AND p."providerMessageId" = k.id`;
      const found = new Set(rows.map(keyOf));
      return keys.map((k) => found.has(keyOf(k)));
    },
    { maxGroupSize: 1000 },
  );

  return {
    async findMessageId(provider, providerMessageId) {
      const row = await prisma.message.findFirst({ where: { provider, providerMessageId }, select: { id: true } });
      return row?.id;
    },
    async keepPending(provider, providerMessageId, report) {
      await prisma.pendingStatusReport.create({
        data: { provider, providerMessageId, report: serializeReport(report) },
      });
    },
    hasPending: (provider, providerMessageId) => hasPendingInGroup({ provider, providerMessageId }),
    async pendingFor(provider, providerMessageId) {
      const rows = await prisma.pendingStatusReport.findMany({ where: { provider, providerMessageId }, orderBy: { id: 'asc' } });
      return rows.map((row) => ({ id: row.id, report: parseStoredReport(row.report) }));
    },
    async applyPending(pendingId, messageId, decide) {
      // Taking the report off the pending list and applying it commit together, so concurrent
      // appliers (the dispatcher recording a submission, the periodic sweep, other instances)
      // apply each report exactly once: the second waits on the row, then finds it gone.
      const outcomes: QualityOutcome[] = [];
      const change = await prisma.$transaction(async (tx) => {
        const taken = await tx.pendingStatusReport.deleteMany({ where: { id: pendingId } });
        if (taken.count === 0) return null;
        return (await changeMessagesIn(tx, [{ id: messageId, decide }], outcomes))[0];
      });
      if (quality) recordOutcomes(quality, outcomes);
      return change;
    },
    correlatedPending(limit) {
      return prisma.$queryRaw<CorrelatedPending[]>`
        SELECT DISTINCT p.provider, p."providerMessageId", m.id::text AS "messageId"
        FROM "PendingStatusReport" p
        JOIN "Message" m ON m.provider = p.provider AND m."providerMessageId" = p."providerMessageId"
        LIMIT ${limit}`;
    },
  };
}

interface CorrelatedKey {
  provider: string;
  providerMessageId: string;
}

const keyOf = (key: CorrelatedKey) => `${key.provider}\u0000${key.providerMessageId}`;

function serializeReport(report: StatusReport): Prisma.InputJsonValue {
  return { ...report, occurredAt: report.occurredAt?.toISOString() } as Prisma.InputJsonValue;
}

// Written by serializeReport above (an older version may have left nulls where it now omits).
const storedReport = z.object({
  reference: z.string().nullish(),
  providerMessageId: z.string().nullish(),
  status: z.enum(messageStatuses),
  rawStatus: z.string(),
  errorCode: z.enum(providerErrorCodes).nullish(),
  rawErrorCode: z.string().nullish(),
  occurredAt: z.string().nullish(),
});

function parseStoredReport(value: Prisma.JsonValue): StatusReport {
  const raw = storedReport.parse(value);
  return {
    reference: raw.reference ?? undefined,
    providerMessageId: raw.providerMessageId ?? undefined,
    status: raw.status,
    rawStatus: raw.rawStatus,
    errorCode: raw.errorCode ?? undefined,
    rawErrorCode: raw.rawErrorCode ?? undefined,
    occurredAt: raw.occurredAt ? new Date(raw.occurredAt) : undefined,
  };
}

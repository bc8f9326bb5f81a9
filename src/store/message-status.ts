// Status changes in the database. Every change takes the message's row lock, asks the pure
// status machine what may happen, writes the event (and the move, if any) in one transaction,
// and returns what to publish once the transaction has committed.
//
// Changes asked for in the same turn of the event loop (a dispatcher recording a batch of
// submissions, webhook reports arriving together) share one transaction: one locking SELECT,
// one UPDATE and one INSERT of events for the whole group, instead of a transaction each.
// Rows are locked in id order, so two groups never deadlock; decisions are pure functions of
// the locked row, so grouping changes nothing about what is decided.
import { groupPerTurn } from '../concurrency/group-per-turn.js';
import type { PrismaClient } from '../db/database.js';
import type { Prisma } from '../generated/prisma/client.js';
import { isMessageStatus, type MessageStatus } from '../domain/status-machine.js';
import type { StatusChange } from '../pubsub/pubsub.js';
import { metrics, providerLabel } from '../metrics/metrics.js';
import type { DeliveryOutcome, QualityRecorder } from '../domain/provider-quality.js';

export type Tx = Prisma.TransactionClient;

export interface LockedMessage {
  id: string;
  accountId: string;
  batchId: string | null;
  status: MessageStatus;
  providerMessageId: string | null;
  /** The status is Herald's own EXPIRED after the report deadline; a real report may correct it. */
  statusSynthetic: boolean;
}

export interface EventFields {
  source: 'API' | 'DISPATCHER' | 'PROVIDER';
  provider?: string | null;
  rawStatus?: string | null;
  errorCode?: string | null;
  at?: Date;
}

/** The columns a decision may set (undefined leaves a column as it is). */
export interface MessageChanges {
  provider?: string | null;
  providerMessageId?: string | null;
  sentAt?: Date | null;
  deliveredAt?: Date | null;
  leaseUntil?: Date | null;
  dueAt?: Date | null;
  errorCode?: string | null;
  errorMessage?: string | null;
  statusSynthetic?: boolean;
  attempts?: number;
  /** Millionths of costCurrency, as a decimal string (exact; pg reads it as bigint). */
  estimatedCostMicros?: string | null;
  costCurrency?: string | null;
  /** The routing decision as JSON text. */
  routing?: string | null;
}

export interface Decision {
  /** The status to move to, or null to leave the status as it is. */
  next: MessageStatus | null;
  /** The event to record; recorded even when `next` is null (a report that moved nothing). */
  event?: EventFields & { status?: MessageStatus };
  /** Other columns to set together with the move (or alone). */
  data?: MessageChanges;
}

export type Decide = (message: LockedMessage) => Decision;

// Column name → SQL type of its array parameter, in the order of the UPDATE below.
const columns: [keyof MessageChanges, string][] = [
  ['provider', 'text'],
  ['providerMessageId', 'text'],
  ['sentAt', 'timestamptz'],
  ['deliveredAt', 'timestamptz'],
  ['leaseUntil', 'timestamptz'],
  ['dueAt', 'timestamptz'],
  ['errorCode', 'text'],
  ['errorMessage', 'text'],
  ['statusSynthetic', 'boolean'],
  ['attempts', 'int'],
  ['estimatedCostMicros', 'bigint'],
  ['costCurrency', 'text'],
  ['routing', 'jsonb'],
];

export interface MessageStatusStore {
  /**
   * Locks one message, lets `decide` look at it, applies the decision. Returns the change to
   * publish (when the status moved) or null; undefined when there is no such message. The
   * changes asked for in one turn of the event loop share one transaction.
   */
  change(id: string, decide: Decide): Promise<StatusChange | null | undefined>;
}

/**
 * `quality` hears how deliveries ended (providers' measured quality), once the transaction
 * that recorded them has committed.
 */
export function createMessageStatusStore(prisma: PrismaClient, quality?: QualityRecorder): MessageStatusStore {
  const changeInGroup = groupPerTurn<{ id: string; decide: Decide }, StatusChange | null | undefined>(
    async (items) => {
      const outcomes: QualityOutcome[] = [];
      const results = await prisma.$transaction((tx) => changeMessagesIn(tx, [...items], outcomes));
      if (quality) recordOutcomes(quality, outcomes);
      return results;
    },
    { maxGroupSize: 1000 },
  );
  return { change: (id, decide) => changeInGroup({ id, decide }) };
}

/** A delivery that ended by a provider's report, for providers' measured quality. */
export interface QualityOutcome {
  provider: string;
  to: string;
  outcome: DeliveryOutcome;
  /** SENT → DELIVERED, when delivered and the message's sentAt is known. */
  latencyMs: number | null;
}

/** Counts committed outcomes (in memory: no statement). */
export function recordOutcomes(quality: QualityRecorder, outcomes: readonly QualityOutcome[]): void {
  for (const o of outcomes) quality.recordDelivery(o.provider, o.to, o.outcome, o.latencyMs);
}

/** A message row as the locking SELECT below returns it (status is checked, not assumed). */
interface LockedRow {
  id: string;
  accountId: string;
  batchId: string | null;
  status: string;
  providerMessageId: string | null;
  statusSynthetic: boolean;
  createdAt: Date;
  provider: string | null;
  /** For providers' measured quality (the country, and the time from SENT to DELIVERED). */
  to: string;
  sentAt: Date | null;
}

/**
 * Several changes in the caller's transaction: results in the order given. Two changes of
 * one message in a group are applied one after the other (the second sees the first).
 * `outcomes`, when given, receives the deliveries that providers' reports ended, for the
 * caller to count once the transaction has committed.
 */
export async function changeMessagesIn(tx: Tx, items: { id: string; decide: Decide }[], outcomes?: QualityOutcome[]): Promise<(StatusChange | null | undefined)[]> {
  const ids = [...new Set(items.map((i) => i.id))].sort();
  const rows = await tx.$queryRaw<LockedRow[]>`
    SELECT id::text, "accountId"::text, "batchId"::text, status::text, "providerMessageId", "statusSynthetic", "createdAt", provider, "to", "sentAt"
    FROM "Message" WHERE id = ANY(${ids}::uuid[]) ORDER BY id FOR UPDATE`;
  const created = new Map(rows.map((r) => [r.id, r]));
  const current = new Map<string, LockedMessage>();
  for (const row of rows) if (isMessageStatus(row.status)) current.set(row.id, { ...row, status: row.status });

  const updates = new Map<string, { status: MessageStatus | null; data: MessageChanges }>();
  const events: { messageId: string; status: MessageStatus; source: string; provider: string | null; rawStatus: string | null; errorCode: string | null; applied: boolean; at: Date | null }[] = [];
  const results = items.map(({ id, decide }) => {
    const message = current.get(id);
    if (!message) return undefined;
    const { next, event, data } = decide(message);
    if (outcomes && next && event?.source === 'PROVIDER') {
      const outcome = deliveryOutcome(next);
      const row = created.get(id)!;
      const provider = event.provider ?? data?.provider ?? updates.get(id)?.data.provider ?? row.provider;
      if (outcome && provider) {
        const sentAt = updates.get(id)?.data.sentAt ?? row.sentAt;
        const deliveredAt = data?.deliveredAt ?? new Date();
        const latencyMs = outcome === 'delivered' && sentAt ? deliveredAt.getTime() - sentAt.getTime() : null;
        outcomes.push({ provider, to: row.to, outcome, latencyMs });
      }
    }
    if (next || data) {
      const update = updates.get(id) ?? { status: null, data: {} };
      if (next) update.status = next;
      Object.assign(update.data, data);
      updates.set(id, update);
      // What the next decision in the group about this message sees.
      current.set(id, {
        ...message,
        status: next ?? message.status,
        providerMessageId: data?.providerMessageId !== undefined ? data.providerMessageId : message.providerMessageId,
        statusSynthetic: data?.statusSynthetic ?? message.statusSynthetic,
      });
    }
    if (event) {
      events.push({
        messageId: id,
        status: event.status ?? next ?? message.status,
        source: event.source,
        provider: event.provider ?? null,
        rawStatus: event.rawStatus ?? null,
        errorCode: event.errorCode ?? null,
        applied: next !== null,
        at: event.at ?? null,
      });
    }
    return next ? { id, accountId: message.accountId, batchId: message.batchId, status: next } : null;
  });
  if (updates.size > 0) await updateMessages(tx, updates);
  // End-to-end latency (created → DELIVERED), here where every move to DELIVERED passes.
  for (const [id, update] of updates) {
    if (update.status !== 'DELIVERED') continue;
    const row = created.get(id)!;
    const at = update.data.deliveredAt ?? new Date();
    metrics.deliveryDuration.observe({ provider: providerLabel(update.data.provider ?? row.provider) }, Math.max(0, at.getTime() - row.createdAt.getTime()) / 1000);
  }
  if (events.length > 0) {
    const now = new Date();
    await tx.$executeRaw`
      INSERT INTO "MessageEvent" ("messageId", status, source, provider, "rawStatus", "errorCode", applied, at)
      SELECT u."messageId", u.status::"MessageStatus", u.source, u.provider, u."rawStatus", u."errorCode", u.applied, COALESCE(u.at, ${now})
      FROM unnest(${events.map((e) => e.messageId)}::uuid[], ${events.map((e) => e.status)}::text[], ${events.map((e) => e.source)}::text[],
                  ${events.map((e) => e.provider)}::text[], ${events.map((e) => e.rawStatus)}::text[], ${events.map((e) => e.errorCode)}::text[],
                  ${events.map((e) => e.applied)}::boolean[], ${events.map((e) => e.at)}::timestamptz[])
        WITH ORDINALITY AS u("messageId", status, source, provider, "rawStatus", "errorCode", applied, at, n)
      ORDER BY u.n`;
  }
  return results;
}

/**
 * How a provider's report that moved a message to `next` counts for quality. Every final status
 * but DELIVERED counts as failed, not only UNDELIVERED and FAILED: a carrier's own REJECTED
 * (after the provider took the message) or EXPIRED is as much a delivery that did not happen,
 * and leaving them out would flatter providers whose carriers use those words.
 */
function deliveryOutcome(next: MessageStatus): DeliveryOutcome | undefined {
  switch (next) {
    case 'DELIVERED':
      return 'delivered';
    case 'UNDELIVERED':
    case 'FAILED':
    case 'REJECTED':
    case 'EXPIRED':
      return 'failed';
    case 'SCHEDULED':
    case 'QUEUED':
    case 'SENDING':
    case 'SENT':
    case 'CANCELED':
      return undefined;
    default:
      return next satisfies never;
  }
}

/**
 * One UPDATE for the whole group: each column comes as a value array and a "set" flag array,
 * so a row changes only the columns its decision named.
 */
async function updateMessages(tx: Tx, updates: Map<string, { status: MessageStatus | null; data: MessageChanges }>): Promise<void> {
  const entries = [...updates];
  const params: unknown[] = [entries.map(([id]) => id), entries.map(([, u]) => u.status)];
  const sets = ['status = COALESCE(u.status::"MessageStatus", m.status)'];
  const unnest = ['$1::uuid[]', '$2::text[]'];
  const names = ['id', 'status'];
  for (const [column, type] of columns) {
    params.push(entries.map(([, u]) => u.data[column] !== undefined));
    params.push(entries.map(([, u]) => u.data[column] ?? null));
    unnest.push(`$${params.length - 1}::boolean[]`, `$${params.length}::${type}[]`);
    names.push(`set_${column}`, `v_${column}`);
    sets.push(`"${column}" = CASE WHEN u."set_${column}" THEN u."v_${column}" ELSE m."${column}" END`);
  }
  params.push(new Date());
  sets.push(`"updatedAt" = $${params.length}`);
  const quoted = names.map((n) => `"${n}"`).join(', ');
  await tx.$executeRawUnsafe(
    `UPDATE "Message" m SET ${sets.join(', ')} FROM unnest(${unnest.join(', ')}) AS u(${quoted}) WHERE m.id = u.id`,
    ...params,
  );
}

// Status changes in the database. Every change takes the message's row lock, asks the pure
// status machine what may happen, writes the event (and the move, if any) in one transaction,
// and returns what to publish once the transaction has committed.
import type { PrismaClient } from '../db/database.js';
import type { Prisma } from '../generated/prisma/client.js';
import { isMessageStatus, type MessageStatus } from '../domain/status-machine.js';
import type { StatusChange } from '../pubsub.js';

type Tx = Prisma.TransactionClient;

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

export interface Decision {
  /** The status to move to, or null to leave the status as it is. */
  next: MessageStatus | null;
  /** The event to record; recorded even when `next` is null (a report that moved nothing). */
  event?: EventFields & { status?: MessageStatus };
  /** Other columns to set together with the move (or alone). */
  data?: Prisma.MessageUpdateInput;
}

/**
 * Locks one message, lets `decide` look at it, applies the decision. Returns the change to
 * publish (when the status moved) or null; undefined when there is no such message.
 */
export async function changeMessage(
  prisma: PrismaClient,
  id: string,
  decide: (message: LockedMessage) => Decision,
): Promise<StatusChange | null | undefined> {
  return prisma.$transaction((tx) => changeMessageIn(tx, id, decide));
}

/** `changeMessage` inside a transaction the caller holds (to commit other writes with it). */
export async function changeMessageIn(tx: Tx, id: string, decide: (message: LockedMessage) => Decision): Promise<StatusChange | null | undefined> {
  const message = await lockMessage(tx, id);
  if (!message) return undefined;
  return applyDecision(tx, message, decide(message));
}

export async function lockMessage(tx: Tx, id: string): Promise<LockedMessage | undefined> {
  const rows = await tx.$queryRaw<{ id: string; accountId: string; batchId: string | null; status: string; providerMessageId: string | null; statusSynthetic: boolean }[]>`
    SELECT id::text, "accountId"::text, "batchId"::text, status::text, "providerMessageId", "statusSynthetic"
    FROM "Message" WHERE id = ${id}::uuid FOR UPDATE`;
  const row = rows[0];
  if (!row || !isMessageStatus(row.status)) return undefined;
  return { ...row, status: row.status };
}

async function applyDecision(tx: Tx, message: LockedMessage, decision: Decision): Promise<StatusChange | null> {
  const { next, event, data } = decision;
  if (next || data) {
    await tx.message.update({ where: { id: message.id }, data: { ...data, ...(next && { status: next }) } });
  }
  if (event) {
    await tx.messageEvent.create({
      data: {
        messageId: message.id,
        status: event.status ?? next ?? message.status,
        source: event.source,
        provider: event.provider ?? null,
        rawStatus: event.rawStatus ?? null,
        errorCode: event.errorCode ?? null,
        applied: next !== null,
        ...(event.at && { at: event.at }),
      },
    });
  }
  return next ? { id: message.id, accountId: message.accountId, batchId: message.batchId, status: next } : null;
}

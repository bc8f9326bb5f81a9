// What subscriptions read per event, grouped across the subscribers of one turn: one status
// event reaches many subscribers at once, and each would otherwise make its own query.
import { groupPerTurn } from '../concurrency/group-per-turn.js';
import type { PrismaClient } from '../db/database.js';
import type { MessageStatus } from '../domain/status-machine.js';
import type { Message } from '../generated/prisma/client.js';

export interface LogEntry {
  id: bigint;
  status: MessageStatus;
}

export interface SubscriptionReads {
  /** Applied log entries of a message after `afterId`, oldest first. */
  readLog(messageId: string, afterId: bigint): Promise<LogEntry[]>;
  /**
   * The message with one selection (`query` from Pothos), only if it belongs to `accountId`.
   * Loads with the same selection in one turn share one query.
   */
  loadMessage(query: object, id: string, accountId: string): Promise<Message | null>;
}

/** Selections kept at most; past that the map starts over (selections are few in practice). */
const MAX_SELECTIONS = 1_000;

export function createSubscriptionReads(prisma: PrismaClient): SubscriptionReads {
  const readLog = groupPerTurn<{ messageId: string; afterId: bigint }, LogEntry[]>(async (requests) => {
    const after = requests.reduce((min, r) => (r.afterId < min ? r.afterId : min), requests[0]!.afterId);
    const rows = await prisma.messageEvent.findMany({
      where: { messageId: { in: [...new Set(requests.map((r) => r.messageId))] }, id: { gt: after }, applied: true },
      orderBy: { id: 'asc' },
      select: { id: true, messageId: true, status: true },
    });
    return requests.map((r) => rows.filter((row) => row.messageId === r.messageId && row.id > r.afterId).map(({ id, status }) => ({ id, status })));
  });

  const loaders = new Map<string, (request: { id: string; accountId: string }) => Promise<Message | null>>();
  function loaderFor(query: object) {
    const select = (query as { select?: Record<string, unknown> }).select;
    // The rows must say which message and account they are (a selection may leave both out).
    const planned = select ? { ...query, select: { ...select, id: true, accountId: true } } : query;
    return groupPerTurn<{ id: string; accountId: string }, Message | null>(async (requests) => {
      const rows = (await prisma.message.findMany({
        ...planned,
        where: { id: { in: [...new Set(requests.map((r) => r.id))] }, accountId: { in: [...new Set(requests.map((r) => r.accountId))] } },
      })) as Message[];
      const byId = new Map(rows.map((row) => [row.id, row]));
      return requests.map((r) => {
        const row = byId.get(r.id);
        return row && row.accountId === r.accountId ? row : null;
      });
    });
  }

  return {
    readLog: (messageId, afterId) => readLog({ messageId, afterId }),
    loadMessage(query, id, accountId) {
      const key = JSON.stringify(query);
      let load = loaders.get(key);
      if (!load) {
        if (loaders.size > MAX_SELECTIONS) loaders.clear();
        loaders.set(key, (load = loaderFor(query)));
      }
      return load({ id, accountId });
    },
  };
}

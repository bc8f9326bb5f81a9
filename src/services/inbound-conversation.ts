// One number's conversation with an account: messages sent to it and replies from it, in one
// list, newest first. The two live in different tables, so a page is merged from both.
import type { PrismaClient } from '../db/database.js';
import type { InboundMessage, Message } from '../generated/prisma/client.js';
import { isUuid } from '../domain/ids.js';

/**
 * Items are ordered by when Herald stored them (`createdAt`, then id), in both directions.
 * Not by the provider's `receivedAt`: `inReplyTo` is the last message stored before the
 * reply, so ordering by Herald's clock never shows a reply above the message it answers,
 * whatever the provider's clock says.
 */
export type ConversationItem =
  | { direction: 'OUTBOUND'; at: Date; id: string; message: Message }
  | { direction: 'INBOUND'; at: Date; id: string; message: InboundMessage };

export interface ConversationPosition {
  at: Date;
  id: string;
}

export interface ConversationPage {
  items: ConversationItem[];
  hasNextPage: boolean;
}

const CURSOR_PREFIX = 'conv:';
/** Opaque to clients: the position of an item in the order above. */
export function encodeConversationCursor(position: ConversationPosition): string {
  return Buffer.from(`${CURSOR_PREFIX}${position.at.getTime()}:${position.id}`).toString('base64url');
}

export function decodeConversationCursor(cursor: string): ConversationPosition | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith(CURSOR_PREFIX)) return undefined;
  const [ms, id] = text.slice(CURSOR_PREFIX.length).split(':');
  const at = new Date(Number(ms));
  return ms && /^\d+$/.test(ms) && id && isUuid(id) && !Number.isNaN(at.getTime()) ? { at, id } : undefined;
}

/**
 * The `first` items after `after` (exclusive). Each table is asked for one more than a page
 * past the same position; merging those gives the page, and whether another follows.
 */
export async function loadConversation(
  prisma: PrismaClient,
  accountId: string,
  phone: string,
  page: { first: number; after?: ConversationPosition | undefined },
): Promise<ConversationPage> {
  const take = page.first + 1;
  const before = page.after && {
    OR: [{ createdAt: { lt: page.after.at } }, { createdAt: page.after.at, id: { lt: page.after.id } }],
  };
  const orderBy = [{ createdAt: 'desc' as const }, { id: 'desc' as const }];
  const [sent, received] = await Promise.all([
    prisma.message.findMany({ where: { accountId, to: phone, ...before }, orderBy, take }),
    prisma.inboundMessage.findMany({ where: { accountId, from: phone, ...before }, orderBy, take }),
  ]);
  const items: ConversationItem[] = [
    ...sent.map((message) => ({ direction: 'OUTBOUND' as const, at: message.createdAt, id: message.id, message })),
    ...received.map((message) => ({ direction: 'INBOUND' as const, at: message.createdAt, id: message.id, message })),
  ].sort(newestFirst);
  return { items: items.slice(0, page.first), hasNextPage: items.length > page.first };
}

function newestFirst(a: ConversationPosition, b: ConversationPosition): number {
  const byTime = b.at.getTime() - a.at.getTime();
  // Ids are lower-case uuids and PostgreSQL compares uuids bytewise: the same order as strings.
  return byTime !== 0 ? byTime : b.id < a.id ? -1 : b.id > a.id ? 1 : 0;
}

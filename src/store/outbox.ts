// The outbox's statements: which endpoints of an account are enabled (cached briefly, per
// store), what a webhook event says about a message or a reply, and writing one WebhookDelivery
// row per subscribed endpoint per event (outgoing-webhooks/outbox.ts decides the rows).
import type { PrismaClient } from '../db/database.js';

export interface EndpointInfo {
  id: string;
  eventTypes: string[];
}

/** What a message event says about the message (outgoing-webhooks/events.ts). */
export interface MessageSnapshot {
  id: string;
  to: string;
  from: string | null;
  segments: number;
  provider: string | null;
  errorCode: string | null;
  batchId: string | null;
}

/** What an inbound event says about the reply. */
export interface InboundSnapshot {
  id: string;
  from: string;
  to: string;
  body: string;
  keyword: string | null;
  receivedAt: Date;
  inReplyToId: string | null;
}

export interface NewDelivery {
  endpointId: string;
  eventId: string;
  eventType: string;
  payload: string;
}

export interface OutboxStore {
  /** The enabled endpoints of each account (cached for up to ENDPOINT_CACHE_MS). */
  enabledEndpoints(accountIds: string[]): Promise<Map<string, EndpointInfo[]>>;
  /** Drops the account's cached endpoints: it changed them (created, updated, deleted, disabled). */
  forgetEndpoints(accountId: string): void;
  messageSnapshots(ids: string[]): Promise<Map<string, MessageSnapshot>>;
  inboundSnapshot(id: string): Promise<InboundSnapshot | undefined>;
  writeDeliveries(rows: NewDelivery[]): Promise<void>;
}

/**
 * Every status change passes here, so the enabled endpoints of an account are cached briefly:
 * an account without endpoints costs no query per change. Changes made through this process
 * (create, update, delete) clear the cache at once; another instance's take up to this long.
 */
const ENDPOINT_CACHE_MS = 2_000;

export function createOutboxStore(prisma: PrismaClient): OutboxStore {
  // The read itself is cached, not only its answer: status changes come many per moment, and
  // until the first read answered each of them started its own (the end-to-end bench logged
  // 262 endpoint reads in 6 s for one account).
  const cache = new Map<string, { at: number; endpoints: Promise<EndpointInfo[]> }>();

  return {
    async enabledEndpoints(accountIds) {
      const now = Date.now();
      const missing = accountIds.filter((id) => {
        const hit = cache.get(id);
        return !hit || now - hit.at >= ENDPOINT_CACHE_MS;
      });
      if (missing.length > 0) {
        const read = prisma.webhookEndpoint.findMany({
          where: { accountId: { in: missing }, enabled: true },
          select: { id: true, accountId: true, eventTypes: true },
        });
        for (const id of missing) {
          const endpoints = read.then((rows) => rows.filter((r) => r.accountId === id));
          cache.set(id, { at: now, endpoints });
          // A failed read is not kept: the next change reads again.
          endpoints.catch(() => {
            if (cache.get(id)?.endpoints === endpoints) cache.delete(id);
          });
        }
      }
      return new Map(await Promise.all(accountIds.map(async (id) => [id, await cache.get(id)!.endpoints] as const)));
    },

    forgetEndpoints(accountId) {
      cache.delete(accountId);
    },

    async messageSnapshots(ids) {
      const rows = await prisma.message.findMany({
        where: { id: { in: ids } },
        select: { id: true, to: true, from: true, segments: true, provider: true, errorCode: true, batchId: true },
      });
      return new Map(rows.map((m) => [m.id, m]));
    },

    async inboundSnapshot(id) {
      const row = await prisma.inboundMessage.findUnique({
        where: { id },
        select: { id: true, from: true, to: true, body: true, keyword: true, receivedAt: true, inReplyToId: true },
      });
      return row ?? undefined;
    },

    async writeDeliveries(rows) {
      await prisma.webhookDelivery.createMany({ data: rows });
    },
  };
}

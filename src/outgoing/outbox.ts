// Writes the outbox: one WebhookDelivery row per subscribed endpoint per event, right after the
// change committed (the runtime's publish and inbound paths call it). A crash between the
// commit and this write loses that event's webhooks; everything after it is durable and
// retried by the worker.
import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { InboundReceived, StatusChange } from '../pubsub.js';
import { eventTypesForStatus, inboundPayload, messagePayload, type WebhookEventType } from './events.js';

interface EndpointInfo {
  id: string;
  eventTypes: string[];
}

/**
 * Every status change passes here, so the enabled endpoints of an account are cached briefly:
 * an account without endpoints costs no query per change. Changes made through this process
 * (create, update, delete) clear the cache at once; another instance's take up to CACHE_MS.
 */
const CACHE_MS = 2_000;
// The read itself is cached, not only its answer: status changes come many per moment, and
// until the first read answered each of them started its own (the end-to-end bench logged
// 262 endpoint reads in 6 s for one account).
const cache = new Map<string, { at: number; endpoints: Promise<EndpointInfo[]> }>();

export function forgetEndpoints(accountId: string): void {
  cache.delete(accountId);
}

async function endpointsOf(prisma: PrismaClient, accountIds: string[]): Promise<Map<string, EndpointInfo[]>> {
  const now = Date.now();
  const missing = accountIds.filter((id) => {
    const hit = cache.get(id);
    return !hit || now - hit.at >= CACHE_MS;
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
}

function eventId(): string {
  return `msg_${randomUUID().replaceAll('-', '')}`;
}

export interface Outbox {
  statusChanges(changes: StatusChange[]): Promise<number>;
  inboundReceived(event: InboundReceived): Promise<number>;
}

export function createOutbox(prisma: PrismaClient): Outbox {
  return {
    /** Returns how many deliveries were written. */
    async statusChanges(changes) {
      if (changes.length === 0) return 0;
      const endpoints = await endpointsOf(prisma, [...new Set(changes.map((c) => c.accountId))]);
      const wanted = changes.filter((c) => (endpoints.get(c.accountId) ?? []).length > 0);
      if (wanted.length === 0) return 0;
      const messages = new Map(
        (
          await prisma.message.findMany({
            where: { id: { in: [...new Set(wanted.map((c) => c.id))] } },
            select: { id: true, to: true, from: true, segments: true, provider: true, errorCode: true, batchId: true },
          })
        ).map((m) => [m.id, m]),
      );
      const at = new Date();
      const rows: { endpointId: string; eventId: string; eventType: string; payload: string }[] = [];
      for (const change of wanted) {
        const message = messages.get(change.id);
        if (!message) continue;
        for (const type of eventTypesForStatus(change.status)) {
          const subscribed = endpoints.get(change.accountId)!.filter((e) => e.eventTypes.includes(type));
          if (subscribed.length === 0) continue;
          // One id per event: an endpoint subscribed twice to the same change never happens
          // (types differ), and every endpoint of one event shares the id and body.
          const id = eventId();
          const payload = messagePayload(type, change.status, message, at);
          for (const endpoint of subscribed) rows.push({ endpointId: endpoint.id, eventId: id, eventType: type, payload });
        }
      }
      if (rows.length > 0) await prisma.webhookDelivery.createMany({ data: rows });
      return rows.length;
    },
    async inboundReceived(event) {
      const type: WebhookEventType = 'inbound.received';
      const subscribed = ((await endpointsOf(prisma, [event.accountId])).get(event.accountId) ?? []).filter((e) => e.eventTypes.includes(type));
      if (subscribed.length === 0) return 0;
      const inbound = await prisma.inboundMessage.findUnique({
        where: { id: event.id },
        select: { id: true, from: true, to: true, body: true, keyword: true, receivedAt: true, inReplyToId: true },
      });
      if (!inbound) return 0;
      const id = eventId();
      const payload = inboundPayload(inbound, new Date());
      await prisma.webhookDelivery.createMany({ data: subscribed.map((e) => ({ endpointId: e.id, eventId: id, eventType: type, payload })) });
      return subscribed.length;
    },
  };
}


// Writes the outbox: one WebhookDelivery row per subscribed endpoint per event, right after the
// change committed (the runtime's publish and inbound paths call it). A crash between the
// commit and this write loses that event's webhooks; everything after it is durable and
// retried by the worker.
import { randomUUID } from 'node:crypto';
import type { InboundReceived, StatusChange } from '../pubsub/pubsub.js';
import type { NewDelivery, OutboxStore } from '../store/outbox.js';
import { eventTypesForStatus, inboundPayload, messagePayload, type WebhookEventType } from './events.js';

function eventId(): string {
  return `msg_${randomUUID().replaceAll('-', '')}`;
}

export interface Outbox {
  /** Returns how many deliveries were written. */
  statusChanges(changes: StatusChange[]): Promise<number>;
  inboundReceived(event: InboundReceived): Promise<number>;
}

export function createOutbox(store: OutboxStore): Outbox {
  return {
    async statusChanges(changes) {
      if (changes.length === 0) return 0;
      const endpoints = await store.enabledEndpoints([...new Set(changes.map((c) => c.accountId))]);
      const wanted = changes.filter((c) => (endpoints.get(c.accountId) ?? []).length > 0);
      if (wanted.length === 0) return 0;
      const messages = await store.messageSnapshots([...new Set(wanted.map((c) => c.id))]);
      const at = new Date();
      const rows: NewDelivery[] = [];
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
      if (rows.length > 0) await store.writeDeliveries(rows);
      return rows.length;
    },
    async inboundReceived(event) {
      const type: WebhookEventType = 'inbound.received';
      const subscribed = ((await store.enabledEndpoints([event.accountId])).get(event.accountId) ?? []).filter((e) => e.eventTypes.includes(type));
      if (subscribed.length === 0) return 0;
      const inbound = await store.inboundSnapshot(event.id);
      if (!inbound) return 0;
      const id = eventId();
      const payload = inboundPayload(inbound, new Date());
      await store.writeDeliveries(subscribed.map((e) => ({ endpointId: e.id, eventId: id, eventType: type, payload })));
      return subscribed.length;
    },
  };
}

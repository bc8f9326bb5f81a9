// The transactional outbox of outgoing webhooks. A status change writes its MessageEvent, and a
// reply its InboundMessage, in the transaction that makes the change; the relay turns committed
// rows into WebhookDelivery rows in a transaction of its own (store/outbox-relay.ts), so an event
// exists if and only if its change committed: a process killed right after a commit loses
// nothing, and one killed mid-pass leaves the cursor where it was (the pass is redone, once).
//
// Each delivery's `webhook-id` comes from the event row (`msg_<event id>[.<kind>]`,
// `in_<reply id>`): stable across passes and instances, so a receiver deduplicates on it.
import type { NewDelivery } from '../store/outbox.js';
import type { OutboxRelayStore, RelayBatch, RelayedEvent, RelayedInbound, RelayEndpoint } from '../store/outbox-relay.js';
import type { MessageStatus } from '../domain/status-machine.js';
import { eventTypesForStatus, inboundPayload, messagePayload, type WebhookEventType } from './events.js';

/** Rows read per pass and source; a full pass asks for the next one at once. */
export const RELAY_BATCH = 500;

/** The endpoints of the event's account subscribed to `type` that existed when it happened. */
function subscribers(endpoints: RelayEndpoint[], accountId: string, type: WebhookEventType, at: Date): RelayEndpoint[] {
  return endpoints.filter((e) => e.accountId === accountId && e.eventTypes.includes(type) && e.createdAt <= at);
}

export function messageEventDeliveries({ rows, endpoints }: RelayBatch<RelayedEvent>): NewDelivery[] {
  const out: NewDelivery[] = [];
  for (const event of rows) {
    const status = event.status as MessageStatus;
    // The message's provider and code as of this event: the event's own, else the message's if
    // it is still in this status (a QUEUED event relayed after a failure carries no failure code).
    const current = event.message.status === event.status;
    const snapshot = {
      ...event.message,
      provider: event.eventProvider ?? (current ? event.message.provider : null),
      errorCode: event.eventErrorCode ?? (current ? event.message.errorCode : null),
    };
    for (const type of eventTypesForStatus(status)) {
      const subscribed = subscribers(endpoints, event.accountId, type, event.at);
      if (subscribed.length === 0) continue;
      const eventId = type === 'message.status_changed' ? `msg_${event.id}` : `msg_${event.id}.${type.slice('message.'.length)}`;
      const payload = messagePayload(type, status, snapshot, event.at);
      for (const endpoint of subscribed) out.push({ endpointId: endpoint.id, eventId, eventType: type, payload });
    }
  }
  return out;
}

export function inboundDeliveries({ rows, endpoints }: RelayBatch<RelayedInbound>): NewDelivery[] {
  return rows.flatMap((inbound) => {
    const subscribed = subscribers(endpoints, inbound.accountId, 'inbound.received', inbound.createdAt);
    const payload = inboundPayload(inbound, inbound.createdAt);
    return subscribed.map((e) => ({ endpointId: e.id, eventId: `in_${inbound.id.replaceAll('-', '')}`, eventType: 'inbound.received', payload }));
  });
}

/** One pass over both sources; true when either had a full batch (more is waiting). */
export async function relayOnce(store: OutboxRelayStore, batch = RELAY_BATCH): Promise<boolean> {
  const events = await store.relayMessageEvents(batch, messageEventDeliveries);
  const inbound = await store.relayInbound(batch, inboundDeliveries);
  return events === batch || inbound === batch;
}

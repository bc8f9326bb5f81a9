// What an outgoing-webhook event says about a message or a reply, and the WebhookDelivery rows
// written for it (one per subscribed endpoint per event; store/outbox-relay.ts writes them,
// outgoing-webhooks/relay.ts decides them).

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


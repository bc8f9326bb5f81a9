// The events an endpoint can subscribe to, and the JSON each one carries. Payloads follow the
// Standard Webhooks shape {type, timestamp, data}; ids are the API's global ids, so a receiver
// can ask `node(id:)` for more.
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { BudgetPeriod, BudgetThreshold } from '../domain/budgets.js';
import { formatMicros, type Money } from '../domain/money.js';
import type { MessageStatus } from '../domain/status-machine.js';
import type { InboundSnapshot, MessageSnapshot } from '../store/outbox.js';

/** Wire name (in payloads and the database) → GraphQL enum value. */
export const WEBHOOK_EVENT_TYPES = {
  'message.status_changed': 'MESSAGE_STATUS_CHANGED',
  'message.sent': 'MESSAGE_SENT',
  'message.delivered': 'MESSAGE_DELIVERED',
  'message.failed': 'MESSAGE_FAILED',
  'inbound.received': 'INBOUND_RECEIVED',
  'budget.threshold': 'BUDGET_THRESHOLD',
} as const;

export type WebhookEventType = keyof typeof WEBHOOK_EVENT_TYPES;
export type WebhookEventEnum = (typeof WEBHOOK_EVENT_TYPES)[WebhookEventType];

const byEnum = new Map(Object.entries(WEBHOOK_EVENT_TYPES).map(([wire, value]) => [value, wire as WebhookEventType]));

export function eventTypeFromEnum(value: WebhookEventEnum): WebhookEventType {
  return byEnum.get(value)!;
}

export function eventTypeToEnum(type: string): WebhookEventEnum | undefined {
  return WEBHOOK_EVENT_TYPES[type as WebhookEventType];
}

/** Final statuses that did not reach the handset. */
const FAILED: ReadonlySet<MessageStatus> = new Set(['FAILED', 'UNDELIVERED', 'EXPIRED', 'REJECTED']);

/** The event types one status change raises: every change, plus the specific one if any. */
export function eventTypesForStatus(status: MessageStatus): WebhookEventType[] {
  const types: WebhookEventType[] = ['message.status_changed'];
  if (status === 'SENT') types.push('message.sent');
  if (status === 'DELIVERED') types.push('message.delivered');
  if (FAILED.has(status)) types.push('message.failed');
  return types;
}

export function messagePayload(type: WebhookEventType, status: MessageStatus, message: MessageSnapshot, at: Date): string {
  return JSON.stringify({
    type,
    timestamp: at.toISOString(),
    data: {
      id: encodeGlobalID('Message', message.id),
      messageId: message.id,
      status,
      to: message.to,
      from: message.from,
      segments: message.segments,
      provider: message.provider,
      errorCode: message.errorCode,
      batchId: message.batchId ? encodeGlobalID('Batch', message.batchId) : null,
    },
  });
}

export function inboundPayload(inbound: InboundSnapshot, at: Date): string {
  return JSON.stringify({
    type: 'inbound.received',
    timestamp: at.toISOString(),
    data: {
      id: encodeGlobalID('InboundMessage', inbound.id),
      inboundMessageId: inbound.id,
      from: inbound.from,
      to: inbound.to,
      body: inbound.body,
      keyword: inbound.keyword,
      receivedAt: inbound.receivedAt.toISOString(),
      inReplyTo: inbound.inReplyToId ? encodeGlobalID('Message', inbound.inReplyToId) : null,
    },
  });
}

/** A budget's spend reached `threshold` % of its limit (once per period and threshold). */
export interface BudgetThresholdEvent {
  period: BudgetPeriod;
  threshold: BudgetThreshold;
  spent: Money;
  limit: Money;
  resetsAt: Date;
}

export function budgetThresholdPayload(event: BudgetThresholdEvent, at: Date): string {
  const money = (m: Money) => ({ amount: formatMicros(m.micros), currency: m.currency });
  return JSON.stringify({
    type: 'budget.threshold',
    timestamp: at.toISOString(),
    data: { period: event.period, threshold: event.threshold, spent: money(event.spent), limit: money(event.limit), resetsAt: event.resetsAt.toISOString() },
  });
}

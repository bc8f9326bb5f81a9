// The simulator's wire format: the JSON it POSTs to Herald, parsed with zod where it enters.
//
// Status report (`POST /webhooks/simulator/status`), one object or a non-empty array of them:
//   { "reference": "<Herald message id>", "providerMessageId": "sim_…",
//     "status": "accepted" | "delivered" | "undelivered" | "expired" | "rejected" | "failed",
//     "errorCode"?: "UNDELIVERABLE" | …, "timestamp": "<ISO 8601>" }
// Inbound reply (`POST /webhooks/simulator/inbound`), one object or an array:
//   { "from": "+15550100", "to": "+15550199", "body": "STOP", "receivedAt"?: "<ISO 8601>",
//     "providerMessageId"?: "sim_in_…" }
// Without providerMessageId, Herald derives one from the signed body (see services/inbound.ts).

import { z } from 'zod';
import type { MessageStatus } from '../../domain/status-machine.js';
import {
  providerErrorCodes,
  WebhookPayloadError,
  type InboundReport,
  type ProviderErrorCode,
  type StatusReport,
} from '../types.js';

/** The simulator's status words and what they mean to Herald: one table, as for every adapter. */
export const simulatorStatusWords = {
  accepted: 'SENT',
  delivered: 'DELIVERED',
  undelivered: 'UNDELIVERED',
  expired: 'EXPIRED',
  rejected: 'REJECTED',
  failed: 'FAILED',
} as const satisfies Record<string, MessageStatus>;

export type SimulatorStatusWord = keyof typeof simulatorStatusWords;

const statusWords = Object.keys(simulatorStatusWords) as [SimulatorStatusWord, ...SimulatorStatusWord[]];

const timestampSchema = z.iso.datetime({ offset: true });

const reportSchema = z.object({
  reference: z.string().min(1).max(200),
  providerMessageId: z.string().min(1).max(200),
  status: z.enum(statusWords),
  errorCode: z.string().min(1).max(100).optional(),
  timestamp: timestampSchema,
});

export type SimulatorReportPayload = z.infer<typeof reportSchema>;

const inboundSchema = z.object({
  from: z.string().min(1).max(32),
  to: z.string().min(1).max(32),
  body: z.string().max(10_000),
  receivedAt: timestampSchema.optional(),
  providerMessageId: z.string().min(1).max(200).optional(),
});

export type SimulatorInboundPayload = z.infer<typeof inboundSchema>;

// A batch is bounded so one request cannot make the route do unbounded work. Choosing the
// schema by shape, rather than with a union, keeps the issue paths precise (`0.status`).
const oneOrMany = <T extends z.ZodType>(schema: T, json: unknown) =>
  Array.isArray(json) ? z.array(schema).min(1).max(1000) : schema;

function parseBody<T extends z.ZodType>(rawBody: Buffer, schema: T): z.output<T>[] {
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new WebhookPayloadError('simulator', 'body is not JSON');
  }
  const parsed = oneOrMany(schema, json).safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new WebhookPayloadError('simulator', 'unexpected shape', issues);
  }
  return Array.isArray(parsed.data) ? parsed.data : [parsed.data];
}

// The simulator speaks Herald's error vocabulary; anything else is kept raw as UNKNOWN.
function normaliseErrorCode(raw: string): ProviderErrorCode {
  return (providerErrorCodes as readonly string[]).includes(raw) ? (raw as ProviderErrorCode) : 'UNKNOWN';
}

export function parseSimulatorStatusReports(rawBody: Buffer): StatusReport[] {
  return parseBody(rawBody, reportSchema).map((report) => ({
    reference: report.reference,
    providerMessageId: report.providerMessageId,
    status: simulatorStatusWords[report.status],
    rawStatus: report.status,
    ...(report.errorCode ? { errorCode: normaliseErrorCode(report.errorCode), rawErrorCode: report.errorCode } : {}),
    occurredAt: new Date(report.timestamp),
  }));
}

export function parseSimulatorInbound(rawBody: Buffer): InboundReport[] {
  return parseBody(rawBody, inboundSchema).map((inbound) => ({
    from: inbound.from,
    to: inbound.to,
    body: inbound.body,
    ...(inbound.receivedAt ? { receivedAt: new Date(inbound.receivedAt) } : {}),
    ...(inbound.providerMessageId ? { providerMessageId: inbound.providerMessageId } : {}),
  }));
}

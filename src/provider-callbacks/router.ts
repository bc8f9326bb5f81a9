// POST /webhooks/:provider/status — delivery reports from providers — and
// POST /webhooks/:provider/inbound — replies from handsets.
// Verifies authenticity before parsing anything, answers quickly, is idempotent (a repeated
// report is recorded and moves nothing; a repeated reply is stored once). Forged calls get 401,
// unknown providers 404, and neither changes anything.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { applyStatusReports, type ReportStores } from '../dispatch/reports.js';
import type { Logger } from '../logging/logger.js';
import { metrics } from '../metrics/metrics.js';
import { WebhookPayloadError, type SmsProvider, type WebhookRequest } from '../providers/types.js';
import type { StatusChange } from '../pubsub/pubsub.js';
import { readBoundedBody } from '../security/body-limit.js';
import { receiveInbound, type InboundDeps } from '../services/inbound.js';

const MAX_WEBHOOK_BYTES = 1024 * 1024;
const PATH = /^\/webhooks\/([a-z][a-z0-9-]*)\/(status|inbound)$/;

export interface WebhookDeps {
  /** Where delivery reports are applied (the store's request side). */
  store: ReportStores;
  providers: () => readonly SmsProvider[];
  publish: (changes: StatusChange[]) => void;
  logger: Logger;
  publicUrl: () => string;
  /** What storing replies and answering their keywords needs (services/inbound.ts). */
  inbound: Omit<InboundDeps, 'logger'>;
}

export function isWebhookPath(path: string): boolean {
  return path.startsWith('/webhooks/');
}

export async function handleWebhook(req: IncomingMessage, res: ServerResponse, path: string, deps: WebhookDeps): Promise<void> {
  const match = PATH.exec(path);
  const provider = match && deps.providers().find((p) => p.name === match[1]);
  // The path is the caller's to choose: an unconfigured name is counted as "unknown".
  const rejected = (reason: string) => metrics.webhookRejections.inc({ provider: provider ? provider.name : 'unknown', reason });
  const refuse = (reason: string, status: number, error: string) => {
    rejected(reason);
    reply(res, status, { error });
  };
  if (!match || !provider) return refuse('unknown_provider', 404, 'unknown webhook');
  if (req.method !== 'POST') return refuse('method', 405, 'POST only');
  const kind = match[2] as 'status' | 'inbound';
  if (kind === 'inbound' && !provider.parseInbound) return refuse('no_inbound', 404, 'this provider does not receive messages');

  const rawBody = await readBoundedBody(req, MAX_WEBHOOK_BYTES);
  if (!rawBody) return refuse('too_large', 413, 'payload too large');
  const request: WebhookRequest = {
    path,
    headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v])),
    rawBody,
    url: `${deps.publicUrl()}${req.url ?? path}`,
    receivedAt: new Date(),
  };
  if (!(await provider.verifyWebhook(request))) {
    rejected('signature');
    deps.logger.warn({ provider: provider.name, path }, 'webhook rejected: bad or missing signature, or outside the replay window');
    return reply(res, 401, { error: 'invalid signature' });
  }
  try {
    if (kind === 'inbound') {
      const inbound = provider.parseInbound!(request);
      // 200 even when some went to a number no account owns: a provider retries anything
      // else, forever, and the number will not start belonging to anyone because it did.
      const outcome = await receiveInbound({ ...deps.inbound, logger: deps.logger }, provider.name, inbound, rawBody);
      return acknowledge(res, provider, kind, outcome);
    }
    const reports = provider.parseStatusReport(request);
    const outcome = await applyStatusReports(deps.store, provider.name, reports);
    deps.publish(outcome.changes);
    acknowledge(res, provider, kind, { received: reports.length, deferred: outcome.deferred, unknown: outcome.unknown });
  } catch (error) {
    if (error instanceof WebhookPayloadError) {
      rejected('payload');
      deps.logger.warn({ provider: provider.name, path, issues: error.issues }, 'webhook payload rejected');
      return reply(res, 400, { error: kind === 'inbound' ? 'malformed message' : 'malformed report' });
    }
    throw error;
  }
}

/** 200 with the body the vendor expects back (Aliyun wants `{"code":0}`), or Herald's summary. */
function acknowledge(res: ServerResponse, provider: SmsProvider, kind: 'status' | 'inbound', summary: unknown): void {
  const ack = provider.webhookAck?.(kind);
  if (!ack) return reply(res, 200, summary);
  res.writeHead(200, { 'content-type': ack.contentType });
  res.end(ack.body);
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

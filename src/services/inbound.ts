// Replies from handsets: routed to the account owning the number they were sent to, stored
// once per provider message, linked to the last message that account sent the number, and
// acted on when they are a keyword (STOP, START, HELP).
import { createHash } from 'node:crypto';
import { HeraldError } from '../domain/errors.js';
import { classifyKeyword, type KeywordAction } from '../domain/keywords.js';
import { normalizePhoneNumber } from '../domain/phone.js';
import { parseSenderIdentity } from '../domain/sender-identity.js';
import type { Logger } from '../logging/logger.js';
import type { InboundReport } from '../providers/types.js';
import type { InboundReceived, StatusChange } from '../pubsub/pubsub.js';
import type { Store } from '../store/store.js';
import { sendMessage, type SendStore } from './messages.js';
import type { ComplianceDeps } from './send-pipeline.js';

type CountryCode = Parameters<typeof normalizePhoneNumber>[1];

export interface InboundDeps {
  /** Where replies are stored, and what a keyword reply's send uses. */
  store: SendStore & Pick<Store, 'inboundMessages' | 'accountSettings'>;
  logger: Logger;
  /** For keyword replies, which take the normal send path (screening, limits). */
  compliance: ComplianceDeps;
  /** Tells the account's subscribers (inboundMessageReceived) after the commit. */
  publishInbound(event: InboundReceived): void;
  /** Publishes a keyword reply's first status and wakes the dispatcher. */
  publishAndWake(changes: StatusChange[]): void;
  sendOptions: { maxBodyLength: number; defaultCountry?: string | undefined };
  now?: () => Date;
}

/** What one webhook call did, for its answer and logs. */
export interface InboundOutcome {
  received: number;
  stored: number;
  /** Already stored (a provider retrying its callback): nothing done again. */
  duplicates: number;
  /** Sent to a number no account owns: answered 2xx so the provider stops, stored nowhere. */
  unrouted: number;
}

/**
 * The provider's id for an inbound message, or one derived from the signed body when the
 * provider sends none (the simulator's format makes it optional). A provider retrying a
 * callback signs it again (new timestamp header) but posts the same bytes, so the hash is the
 * same and the retry is recognised; two real replies differ by their `receivedAt`. The index
 * tells apart the messages of one batch.
 */
export function inboundMessageId(report: InboundReport, rawBody: Buffer, index: number): string {
  return report.providerMessageId ?? `sha256:${createHash('sha256').update(rawBody).digest('hex')}:${index}`;
}

/** Handles the replies of one verified webhook call, in order (a STOP then a START must stay in that order). */
export async function receiveInbound(deps: InboundDeps, provider: string, reports: InboundReport[], rawBody: Buffer): Promise<InboundOutcome> {
  const outcome: InboundOutcome = { received: reports.length, stored: 0, duplicates: 0, unrouted: 0 };
  for (const [index, report] of reports.entries()) {
    const result = await receiveOne(deps, provider, report, inboundMessageId(report, rawBody, index));
    outcome[result]++;
  }
  return outcome;
}

async function receiveOne(deps: InboundDeps, provider: string, report: InboundReport, providerMessageId: string): Promise<'stored' | 'duplicates' | 'unrouted'> {
  const { store, logger } = deps;
  const country = deps.sendOptions.defaultCountry as CountryCode | undefined;
  const to = parseSenderIdentity(report.to, country);
  const owner = await store.senderIdentities.findOwner(to instanceof HeraldError ? report.to.trim() : to.value);
  if (!owner) {
    // Not the body or sender: a stray message is not ours to keep, its content included.
    logger.warn({ provider, providerMessageId, to: report.to }, 'inbound message to a number no account owns: dropped');
    return 'unrouted';
  }
  const { accountId } = owner;
  const phone = normalizePhoneNumber(report.from, country);
  const from = phone.ok ? phone.e164 : report.from.trim();
  // Keywords come from handsets; a sender that is not a phone number cannot opt out or in.
  const keyword = phone.ok ? classifyKeyword(report.body) : undefined;
  const now = deps.now?.() ?? new Date();

  const stored = await store.inboundMessages.record({
    accountId,
    from,
    to: owner.value,
    body: report.body,
    provider,
    providerMessageId,
    receivedAt: report.receivedAt ?? now,
    keyword: keyword ?? null,
  });
  if (!stored) return 'duplicates';

  deps.publishInbound({ id: stored.id, accountId });
  if (keyword) await replyToKeyword(deps, { accountId, keyword, to: from, from: owner.value, now });
  return 'stored';
}

/**
 * Sends the account's configured answer to a keyword, from the number that received it. A
 * refusal (limits, screening) is logged, never an error of the webhook: the keyword itself
 * was applied, and the provider must not retry the callback for a reply.
 */
async function replyToKeyword(deps: InboundDeps, reply: { accountId: string; keyword: KeywordAction; to: string; from: string; now: Date }): Promise<void> {
  const body = await deps.store.accountSettings.keywordReply(reply.accountId, reply.keyword);
  if (!body) return;
  const result = await sendMessage(
    deps.store,
    deps.compliance,
    reply.accountId,
    { to: reply.to, from: reply.from, body },
    { ...deps.sendOptions, now: reply.now, keywordReply: true },
  );
  if (result instanceof HeraldError) {
    deps.logger.warn({ accountId: reply.accountId, keyword: reply.keyword, code: result.code, reason: result.message }, 'keyword reply not sent');
    return;
  }
  deps.publishAndWake([{ id: result.id, accountId: reply.accountId, batchId: null, status: result.status }]);
}

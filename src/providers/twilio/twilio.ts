// Twilio Programmable Messaging (REST API 2010-04-01). Sends with `POST Messages.json`, receives
// delivery reports on a per-message StatusCallback and replies on the number's inbound webhook,
// both signed with X-Twilio-Signature. Twilio keeps no client reference on a message, so
// Herald's id rides in the StatusCallback URL (`?ref=<id>`, covered by the signature), and
// `lookup` can only match by recipient, time and body (see its comment).

import type { Money } from '../../domain/money.js';
import { isFinal } from '../../domain/status-machine.js';
import type { TwilioConfig } from '../../config/config.js';
import {
  callTwilio,
  messagePath,
  messagesPath,
  parseJson,
  readFailure,
  twilioErrorSchema,
  twilioMessagePageSchema,
  twilioMessageSchema,
  type TwilioApiOptions,
  type TwilioMessage,
} from './twilio-api.js';
import { parseTwilioInbound, parseTwilioStatusCallback, reportFields } from './twilio-payload.js';
import { twilioCost } from './twilio-price.js';
import { parseTwilioForm, TWILIO_SIGNATURE_HEADER, verifyTwilioSignature } from './twilio-signature.js';
import { classifyTwilioError, isTwilioStatusWord } from './twilio-status.js';
import type {
  InboundReport,
  LookupHint,
  LookupResult,
  OutboundMessage,
  SendResult,
  SentMessageRef,
  SmsProvider,
  StatusReport,
  WebhookAck,
  WebhookRequest,
} from '../types.js';

export type TwilioOptions = TwilioConfig & {
  /** The provider's name in Herald (routes, callbacks at /webhooks/NAME/status); default twilio. */
  name?: string;
  publicUrl: () => string;
  timeoutMs: number;
  /** For tests; the global fetch by default. */
  fetch?: typeof fetch;
  /** Pages of 50 messages `lookup` reads at most before giving up (throwing). Default 5. */
  lookupMaxPages?: number;
};

/** Twilio's documented "do nothing" answer to a messaging webhook. */
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';
const LOOKUP_PAGE_SIZE = 50;

export class TwilioProvider implements SmsProvider {
  readonly name: string;
  private readonly api: TwilioApiOptions;

  constructor(private readonly options: TwilioOptions) {
    this.name = options.name ?? 'twilio';
    if (!options.accountSid || !options.authToken) throw new Error('twilio: accountSid and authToken are required');
    if (!options.from && !options.messagingServiceSid) throw new Error('twilio: a From number or a Messaging Service SID is required');
    this.api = { ...options, apiBaseUrl: options.apiBaseUrl.replace(/\/+$/, '') };
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    let statusCallback: string;
    try {
      statusCallback = `${this.options.publicUrl().replace(/\/+$/, '')}/webhooks/${this.name}/status?ref=${encodeURIComponent(message.id)}`;
    } catch (cause) {
      return { kind: 'retryable', errorCode: 'PROVIDER_ERROR', message: `twilio: Herald's public URL is not known yet (${String(cause)})` };
    }
    const form = new URLSearchParams({ To: message.to, Body: message.body, StatusCallback: statusCallback });
    // A message's own sender wins; otherwise the Messaging Service picks from its pool, and
    // TWILIO_FROM is the fallback. With both From and a service, Twilio sends from From
    // within the service.
    const from = message.from ?? (this.options.messagingServiceSid ? undefined : this.options.from);
    if (from) form.set('From', from);
    if (this.options.messagingServiceSid) form.set('MessagingServiceSid', this.options.messagingServiceSid);

    const result = await callTwilio(this.api, 'POST', messagesPath(this.options.accountSid), form);
    if (result.kind === 'no-answer') {
      return {
        kind: 'retryable',
        errorCode: result.reason === 'timeout' ? 'TIMEOUT' : 'PROVIDER_ERROR',
        rawCode: result.reason,
        message: result.message,
        ...(result.mayHaveReached ? { maybeAccepted: true } : {}),
      };
    }
    if (result.status >= 200 && result.status < 300) {
      const created = parseJson(twilioMessageSchema, result.body);
      // Twilio said yes but we cannot read its id: it has the message, we cannot name it.
      if (!created) return { kind: 'retryable', errorCode: 'PROVIDER_ERROR', rawCode: `HTTP ${result.status}`, message: 'twilio: unreadable answer to a created message', maybeAccepted: true };
      return { kind: 'accepted', providerMessageId: created.sid, rawStatus: created.status };
    }
    const error = parseJson(twilioErrorSchema, result.body);
    const rawCode = error?.code === null || error?.code === undefined ? `HTTP ${result.status}` : String(error.code);
    const { code, kind } = classifyTwilioError(error?.code == null ? undefined : String(error.code), result.status);
    const text = `twilio: ${error?.message ?? `HTTP ${result.status}`}${error?.more_info ? ` (${error.more_info})` : ''}`;
    if (kind === 'rejected') return { kind: 'rejected', errorCode: code, rawCode, message: text };
    return { kind: 'retryable', errorCode: code, rawCode, message: text, ...(result.retryAfterMs !== undefined ? { retryAfterMs: result.retryAfterMs } : {}) };
  }

  verifyWebhook(request: WebhookRequest): boolean {
    const params = parseTwilioForm(request.rawBody);
    if (!verifyTwilioSignature(this.options.authToken, request.url, params, request.headers[TWILIO_SIGNATURE_HEADER])) return false;
    // Signed with our token, so from our account; a different AccountSid would be a
    // subaccount sharing the token or a misrouted webhook, and is not ours to apply.
    const accountSid = params.AccountSid;
    return accountSid === undefined || (accountSid.length === 1 && accountSid[0] === this.options.accountSid);
  }

  parseStatusReport(request: WebhookRequest): StatusReport[] {
    return parseTwilioStatusCallback(request.rawBody, request.url);
  }

  parseInbound(request: WebhookRequest): InboundReport[] {
    return parseTwilioInbound(request.rawBody);
  }

  /** Twilio reads the answer as TwiML: an empty Response means "no reply" for both kinds. */
  webhookAck(): WebhookAck {
    return { contentType: 'text/xml', body: EMPTY_TWIML };
  }

  /**
   * Finds a message Twilio may have accepted without us hearing back. Twilio stores no client
   * reference, so this lists the messages to `hint.to` sent since the day of `hint.since` and
   * matches the body and creation time: two identical bodies to one number in that window are
   * indistinguishable (the earliest is taken). Throws without `hint.body` (it cannot tell) and
   * when the window holds more than `lookupMaxPages` pages.
   */
  async lookup(reference: string, hint: LookupHint): Promise<LookupResult> {
    if (hint.body === undefined) throw new Error(`twilio: cannot look up ${reference} without the body it was sent with`);
    const sinceMs = Math.floor(hint.since.getTime() / 1000) * 1000; // Twilio dates have whole seconds
    const matches = (m: TwilioMessage) =>
      m.body === hint.body &&
      (m.to ?? hint.to) === hint.to &&
      !m.direction?.startsWith('inbound') &&
      m.date_created != null &&
      Date.parse(m.date_created) >= sinceMs;

    const base = messagesPath(this.options.accountSid);
    // Twilio documents the filter as `DateSent>=YYYY-MM-DD`: a parameter named `DateSent>`
    // (the official SDKs send it so), meaning "sent on or after that day, UTC".
    const dated = new URLSearchParams({ To: hint.to, 'DateSent>': hint.since.toISOString().slice(0, 10), PageSize: String(LOOKUP_PAGE_SIZE) });
    const found = await this.findInPages(`${base}?${dated}`, matches, this.options.lookupMaxPages ?? 5);
    if (found) return found;
    // A message still queued has no date_sent, which a DateSent filter may leave out: the
    // newest page to the number without a filter covers it.
    const recent = await this.findInPages(`${base}?${new URLSearchParams({ To: hint.to, PageSize: String(LOOKUP_PAGE_SIZE) })}`, matches, 1, false);
    return recent ?? { found: false };
  }

  /** Polls one message; a report only once Twilio's status is final. */
  async queryStatus(message: SentMessageRef): Promise<StatusReport | undefined> {
    const fetched = await this.fetchMessage(message.providerMessageId);
    if (!isTwilioStatusWord(fetched.status)) return undefined;
    const fields = reportFields(fetched.status, fetched.error_code);
    if (!isFinal(fields.status)) return undefined;
    const updated = fetched.date_updated ? new Date(fetched.date_updated) : undefined;
    return {
      reference: message.id,
      providerMessageId: fetched.sid,
      ...fields,
      ...(updated && !Number.isNaN(updated.getTime()) ? { occurredAt: updated } : {}),
    };
  }

  /**
   * What Twilio charged for the message, from the resource's `price` (see twilio-price.ts):
   * undefined until Twilio has rated it.
   */
  async fetchCost(message: SentMessageRef): Promise<Money | undefined> {
    const fetched = await this.fetchMessage(message.providerMessageId);
    return twilioCost(fetched.price, fetched.price_unit);
  }

  private async fetchMessage(sid: string): Promise<TwilioMessage> {
    const result = await callTwilio(this.api, 'GET', messagePath(this.options.accountSid, sid));
    if (result.kind === 'no-answer' || result.status !== 200) throw readFailure(`fetching ${sid}`, result);
    const fetched = parseJson(twilioMessageSchema, result.body);
    if (!fetched) throw new Error(`twilio: unreadable message ${sid}`);
    return fetched;
  }

  /**
   * Reads up to `maxPages` pages from `path`, returning the earliest match. With `strict`, a
   * window longer than `maxPages` throws: an unread page might hold the message.
   */
  private async findInPages(path: string, matches: (m: TwilioMessage) => boolean, maxPages: number, strict = true): Promise<LookupResult | undefined> {
    let next: string | null | undefined = path;
    let best: TwilioMessage | undefined;
    for (let page = 0; next && page < maxPages; page++) {
      const result = await callTwilio(this.api, 'GET', next);
      if (result.kind === 'no-answer' || result.status !== 200) throw readFailure('listing messages', result);
      const parsed = parseJson(twilioMessagePageSchema, result.body);
      if (!parsed) throw new Error('twilio: unreadable message list');
      for (const m of parsed.messages.filter(matches)) {
        if (!best || Date.parse(m.date_created!) < Date.parse(best.date_created!)) best = m;
      }
      next = parsed.next_page_uri;
    }
    if (!best && next && strict) throw new Error(`twilio: more than ${maxPages} pages of messages to look through`);
    if (!best) return undefined;
    const status = isTwilioStatusWord(best.status) ? reportFields(best.status, best.error_code).status : undefined;
    return { found: true, providerMessageId: best.sid, rawStatus: best.status, ...(status ? { status } : {}) };
  }
}

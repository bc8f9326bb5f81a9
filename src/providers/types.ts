// The one interface every SMS provider adapter implements (simulator, Twilio, Aliyun, Tencent,
// SMPP). The dispatcher and the webhook routes only ever see this; vendor names, vendor status
// words and vendor error codes stay inside the adapter.

import type { Money } from '../domain/money.js';
import type { Encoding } from '../domain/segments.js';
import type { MessageStatus } from '../domain/status-machine.js';

/**
 * Normalised failure reasons, stored as `Message.errorCode`. Adapters map their vendor codes
 * onto these in one table and keep the vendor's own code as `rawCode`.
 */
export const providerErrorCodes = [
  /** The destination is not a valid or reachable number (bad format, unallocated range). */
  'INVALID_NUMBER',
  /** The provider or carrier refuses this recipient or sender (blacklist, STOP, sender id not allowed). */
  'BLOCKED',
  /** The content was refused (spam filter, unapproved template or signature). */
  'CONTENT_REJECTED',
  /** Credentials were refused or the account cannot send (suspended, out of credit). */
  'ACCOUNT_ERROR',
  /** No answer in time; the submission may or may not have been taken. */
  'TIMEOUT',
  /** The provider asked us to slow down. */
  'THROTTLED',
  /** The provider failed on its side (5xx, malformed answer, connection refused). */
  'PROVIDER_ERROR',
  /** The carrier could not deliver to the handset (switched off, unknown subscriber). */
  'UNDELIVERABLE',
  /** The validity period ran out before delivery. */
  'EXPIRED',
  /** A failure the adapter has no better word for; look at `rawCode`. */
  'UNKNOWN',
] as const;

export type ProviderErrorCode = (typeof providerErrorCodes)[number];

/** A message as handed to a provider. */
export interface OutboundMessage {
  /** Herald's message id, passed as the provider's client reference so reports and lookups find it. */
  id: string;
  /** Recipient in E.164 (`+8613800138000`). */
  to: string;
  /** Sender id or number; the provider's default when absent. */
  from?: string;
  body: string;
  segments: number;
  encoding: Encoding;
  /**
   * Set when the message was written from a template. Template-only providers (Aliyun, Tencent)
   * send `providerTemplate` with the variables instead of `body`.
   */
  template?: OutboundTemplate;
}

export interface OutboundTemplate {
  /** Herald's template name (for logs and errors). */
  name: string;
  /** The variables the message was written with, by name. */
  variables: Record<string, string>;
  /**
   * This provider's own template for it, as registered with the provider and mapped in Herald
   * (`setTemplateProviderMapping`); absent when the template has no mapping for this provider.
   */
  providerTemplate?: ProviderTemplate;
}

/** A Herald template's counterpart at one provider. */
export interface ProviderTemplate {
  /** Aliyun TemplateCode (`SMS_154950909`), Tencent TemplateId (`1110`). */
  code: string;
  /**
   * Herald variable names in the provider's parameter order, for providers whose parameters
   * are positional (Tencent's TemplateParamSet). Named providers (Aliyun) ignore it.
   */
  params?: string[];
}

/** The outcome of one submission attempt. Exactly one of three kinds. */
export type SendResult =
  | {
      /** The provider took the message: the dispatcher records SENT. */
      kind: 'accepted';
      providerMessageId: string;
      rawStatus?: string;
    }
  | {
      /** Permanent refusal at submission: the dispatcher records REJECTED and never retries. */
      kind: 'rejected';
      errorCode: ProviderErrorCode;
      rawCode: string;
      message: string;
    }
  | {
      /**
       * Transient failure before acceptance (timeout, 5xx, throttling): the dispatcher retries
       * with backoff, then records FAILED. After a TIMEOUT the provider may have taken the
       * message anyway, so a retry should `lookup()` first where the adapter supports it.
       */
      kind: 'retryable';
      errorCode: ProviderErrorCode;
      rawCode?: string;
      message: string;
      /** When the provider said how long to wait (Retry-After, throttling answers). */
      retryAfterMs?: number;
      /**
       * True when the request may have reached the provider and only its answer was lost
       * (response timeout, connection dropped after sending). Such a message is never handed
       * to another provider without a `lookup()` saying this one does not have it; a failure
       * that certainly happened before acceptance (connection refused, a 5xx or 429 answer)
       * leaves this unset and may fail over at once.
       */
      maybeAccepted?: boolean;
    };

/** An incoming webhook call, as the HTTP route hands it over before anything is parsed. */
export interface WebhookRequest {
  /** URL path, e.g. `/webhooks/simulator/status`. */
  path: string;
  /** Header names lower-cased; repeated headers joined with `, `. */
  headers: Record<string, string | undefined>;
  /** The body bytes exactly as received: signatures are computed over these, never re-serialised JSON. */
  rawBody: Buffer;
  /** The full public URL the provider called (some vendors, like Twilio, sign the URL). */
  url: string;
  /** When Herald received the call; replay windows are measured against it. */
  receivedAt: Date;
}

/** One delivery report from a provider, already mapped onto Herald's vocabulary. */
export interface StatusReport {
  /** Herald's message id, when the provider echoes the client reference. */
  reference?: string;
  /** The provider's id for the message; at least one of `reference` and this is set. */
  providerMessageId?: string;
  /** Mapped status; feed it to `applyReport` from the status machine. */
  status: MessageStatus;
  /** The provider's own status word, kept verbatim for the message event. */
  rawStatus: string;
  errorCode?: ProviderErrorCode;
  /** The provider's own error code, verbatim. */
  rawErrorCode?: string;
  /** When the provider says the status happened, if it says. */
  occurredAt?: Date;
}

/** A reply from a handset, received on `POST /webhooks/:provider/inbound`. */
export interface InboundReport {
  /** Sender, E.164. */
  from: string;
  /** Herald's number or sender id that received it. */
  to: string;
  body: string;
  providerMessageId?: string;
  receivedAt?: Date;
}

/** What a lookup knows besides our id, for providers that search by number and date. */
export interface LookupHint {
  /** Recipient in E.164. */
  to: string;
  /** No earlier than the first submission attempt (minus a little clock skew). */
  since: Date;
  /** The body as submitted, for providers that can only match on content (Twilio). */
  body?: string;
}

/** A message the provider accepted and has not reported a final status for (reconciliation). */
export interface SentMessageRef {
  id: string;
  to: string;
  providerMessageId: string;
  sentAt: Date;
}

/** What a webhook route answers after a verified call was processed, for vendors that expect a body. */
export interface WebhookAck {
  contentType: string;
  body: string;
}

/** What a provider knows about a client reference; used after a crash to avoid resubmitting. */
export type LookupResult =
  | { found: false }
  | { found: true; providerMessageId: string; status?: MessageStatus; rawStatus?: string };

/** Thrown by `parseStatusReport`/`parseInbound` when a verified webhook body has the wrong shape. */
export class WebhookPayloadError extends Error {
  override readonly name = 'WebhookPayloadError';
  constructor(
    readonly provider: string,
    message: string,
    /** Where the payload went wrong, for logs (never echoed to the caller). */
    readonly issues: readonly string[] = [],
  ) {
    super(`${provider} webhook payload: ${message}`);
  }
}

export interface SmsProvider {
  /** Stable lower-case name: the `:provider` of the webhook paths and `Message.provider`. */
  readonly name: string;

  /**
   * Submits one message. Never throws for a provider answer: every answer, including network
   * errors and timeouts, is one of the three `SendResult` kinds. Resubmitting the same `id` must
   * not send twice where the provider can deduplicate by client reference.
   */
  send(message: OutboundMessage): Promise<SendResult>;

  /**
   * Whether a webhook call really comes from this provider (signature, shared token, replay
   * window). Called before any parsing; a false answer makes the route reply 401 or 403.
   */
  verifyWebhook(request: WebhookRequest): boolean | Promise<boolean>;

  /**
   * Reads the delivery reports in a verified status webhook (one or a batch).
   * @throws WebhookPayloadError when the body is not a report this provider sends.
   */
  parseStatusReport(request: WebhookRequest): StatusReport[];

  /**
   * Reads the replies in a verified inbound webhook, for providers that receive them.
   * @throws WebhookPayloadError when the body is not an inbound message this provider sends.
   */
  parseInbound?(request: WebhookRequest): InboundReport[];

  /**
   * True for providers that send only registered templates (Aliyun, Tencent): routing skips
   * them for a message without a `providerTemplate` for them.
   */
  readonly templateOnly?: boolean;

  /**
   * Asks the provider what it knows about one of our message ids (after a crash or an ambiguous
   * timeout, before resubmitting or failing over). Throws when the provider cannot be asked
   * right now; the caller then treats the message as possibly accepted.
   */
  lookup?(reference: string, hint: LookupHint): Promise<LookupResult>;

  /**
   * Polls the provider for the status of a message it accepted, for messages whose delivery
   * report is overdue (Twilio message fetch, Aliyun QuerySendDetails, Tencent
   * PullSmsSendStatusByPhoneNumber). Undefined when the provider has nothing final to say yet.
   */
  queryStatus?(message: SentMessageRef): Promise<StatusReport | undefined>;

  /**
   * What the provider charged for a message it took, as it reports it (Twilio's `price` on the
   * Message resource), asked after the message's final status by dispatch/actual-cost.ts.
   * Resolves `undefined` while the provider has not rated it yet (asked again later), `null`
   * when it never will report one for this message (never asked again). Throws when the
   * provider cannot be asked right now or answers something unreadable (asked again later).
   * Absent for providers whose APIs report no money amount (Aliyun, Tencent, SMPP).
   */
  fetchCost?(message: SentMessageRef): Promise<Money | null | undefined>;

  /** The body a vendor expects back from a processed webhook (default: Herald's JSON summary). */
  webhookAck?(kind: 'status' | 'inbound'): WebhookAck;

  /**
   * Work the provider does on its own while Herald dispatches, run by a background loop in the
   * processes that dispatch (the simulator sends the reports a crashed process never sent).
   */
  readonly backgroundWork?: BackgroundWork;

  /** Releases timers, sockets and sessions (SMPP binds); pending work is dropped. */
  close?(): Promise<void>;
}

export interface BackgroundWork {
  /** The wait between two passes. */
  pollMs: number;
  /** One pass; a failure is logged and the next pass comes after `pollMs`. */
  run(): Promise<unknown>;
}

/**
 * Where a connection-based provider (SMPP) hands what arrives on its connection: delivery
 * receipts and replies. HTTP providers receive these on the webhook routes instead. Each call
 * resolves once the reports are stored (an SMSC expects its deliver_sm answered after that).
 */
export interface ProviderEvents {
  statusReports(provider: string, reports: StatusReport[]): Promise<void>;
  inbound(provider: string, reports: InboundReport[]): Promise<void>;
}

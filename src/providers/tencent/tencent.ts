// Tencent Cloud SMS, API 2021-01-11 (https://cloud.tencent.com/document/api/382/55981).
// Template-only: Tencent sends registered templates (TemplateId) with positional parameters
// (TemplateParamSet), never a free body. Requests are JSON POSTs to the endpoint, signed with
// TC3-HMAC-SHA256 (tencent-signature.ts); every answer is HTTP 200 with either a result or
// Response.Error. Codes are classified in tencent-status.ts; wire formats in tencent-payload.ts.
//
// Callbacks are unsigned JSON; configure them at Tencent with Herald's token in the query:
//   ${PUBLIC_URL}/webhooks/tencent/status?token=<TENCENT_CALLBACK_TOKEN>
//   ${PUBLIC_URL}/webhooks/tencent/inbound?token=<TENCENT_CALLBACK_TOKEN>
//
// No lookup(): PullSmsSendStatusByPhoneNumber lists only messages that already have a carrier
// receipt ("仅当运营商有返回短信接收状态时回包中才会有状态数据"), and carries SessionContext only
// when Tencent enabled it for the account. So "not in the list" cannot mean "not accepted",
// and a lookup would wrongly clear a message Tencent holds for failover. Tencent cannot
// deduplicate by SessionContext either: a resubmission is a second message.

import { createHash, timingSafeEqual } from 'node:crypto';
import { fetchFailure } from '../http-failure.js';
import type { TencentConfig } from '../../config/config.js';
import { pullStatusAnswerSchema, sendSmsAnswerSchema, parseTencentReplyCallback, parseTencentStatusCallback, toStatusReport } from './tencent-payload.js';
import { signTc3 } from './tencent-signature.js';
import { classifyTencentCode } from './tencent-status.js';
import type { InboundReport, OutboundMessage, SendResult, SentMessageRef, SmsProvider, StatusReport, WebhookAck, WebhookRequest } from '../types.js';

export type TencentOptions = TencentConfig & {
  /** The provider's name in Herald (routes, callbacks at /webhooks/NAME/…); default tencent. */
  name?: string;
  timeoutMs: number;
  /** For tests: the HTTP client (default: global fetch). */
  fetch?: typeof fetch;
  /** For tests: the clock that stamps X-TC-Timestamp and bounds status pulls. */
  now?: () => Date;
};

export const TENCENT_API_VERSION = '2021-01-11';
const SERVICE = 'sms';
// Signed as sent: Tencent compares the content type byte for byte (its docs warn about charsets).
const CONTENT_TYPE = 'application/json; charset=utf-8';
/** PullSmsSendStatusByPhoneNumber reaches back at most 7 days and returns at most 100 rows. */
const PULL_WINDOW_SECONDS = 7 * 24 * 3600;
const PULL_LIMIT = 100;

type Retryable = Extract<SendResult, { kind: 'retryable' }>;
type ApiAnswer = { ok: true; json: unknown } | { ok: false; failure: Retryable };


export class TencentProvider implements SmsProvider {
  readonly name: string;
  readonly templateOnly = true;
  private readonly fetch: typeof fetch;
  private readonly now: () => Date;

  constructor(readonly options: TencentOptions) {
    this.name = options.name ?? 'tencent';
    this.fetch = options.fetch ?? globalThis.fetch;
    this.now = options.now ?? (() => new Date());
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    const template = message.template;
    const providerTemplate = template?.providerTemplate;
    if (!template || !providerTemplate) {
      return { kind: 'rejected', errorCode: 'CONTENT_REJECTED', rawCode: 'herald:no-provider-template', message: 'Tencent sends registered templates only; this message has no Tencent template mapping' };
    }
    const params = providerTemplate.params ?? [];
    const missing = params.filter((name) => template.variables[name] === undefined);
    if (missing.length > 0) {
      return { kind: 'rejected', errorCode: 'CONTENT_REJECTED', rawCode: 'herald:missing-template-params', message: `template "${template.name}" lacks the Tencent parameter(s) ${missing.join(', ')}` };
    }

    const answer = await this.call('SendSms', {
      PhoneNumberSet: [message.to],
      SmsSdkAppId: this.options.smsSdkAppId,
      SignName: message.from ?? this.options.signName,
      TemplateId: providerTemplate.code,
      TemplateParamSet: params.map((name) => template.variables[name]),
      // Echoed in SendStatus, and in callbacks and pulls where Tencent enabled it.
      SessionContext: message.id,
    });
    if (!answer.ok) return answer.failure;

    const parsed = sendSmsAnswerSchema.safeParse(answer.json);
    if (!parsed.success) return malformedAnswer('SendSms answer has an unexpected shape');
    const { Error: error, SendStatusSet } = parsed.data.Response;
    if (error) return this.refusal(error.Code, error.Message);
    // One number per request, so one status; match by number in case Tencent ever adds others.
    const status = SendStatusSet?.find((s) => s.PhoneNumber === message.to) ?? SendStatusSet?.[0];
    if (!status) return malformedAnswer('SendSms answer has no SendStatusSet');
    if (status.Code === 'Ok') {
      if (!status.SerialNo) return malformedAnswer('SendSms answered Ok without a SerialNo');
      return { kind: 'accepted', providerMessageId: status.SerialNo, rawStatus: status.Code };
    }
    return this.refusal(status.Code, status.Message);
  }

  verifyWebhook(request: WebhookRequest): boolean {
    let token: string | null;
    try {
      token = new URL(request.url).searchParams.get('token');
    } catch {
      return false;
    }
    return token !== null && sameSecret(token, this.options.callbackToken);
  }

  parseStatusReport(request: WebhookRequest): StatusReport[] {
    return parseTencentStatusCallback(this.name, request.rawBody);
  }

  parseInbound(request: WebhookRequest): InboundReport[] {
    return parseTencentReplyCallback(this.name, request.rawBody);
  }

  /** Tencent retries a callback unless it gets this exact answer (https://cloud.tencent.com/document/api/382/59178). */
  webhookAck(): WebhookAck {
    return { contentType: 'application/json', body: JSON.stringify({ result: 0, errmsg: 'OK' }) };
  }

  /**
   * Pulls the receipts for the recipient since the message was sent and picks ours by SerialNo.
   * Undefined while Tencent has no receipt for it; throws when Tencent cannot be asked.
   */
  async queryStatus(message: SentMessageRef): Promise<StatusReport | undefined> {
    const endTime = Math.floor(this.now().getTime() / 1000);
    // A minute of slack for clock skew, never past Tencent's 7-day horizon (it refuses that).
    const beginTime = Math.max(Math.floor(message.sentAt.getTime() / 1000) - 60, endTime - PULL_WINDOW_SECONDS + 60);
    const answer = await this.call('PullSmsSendStatusByPhoneNumber', {
      BeginTime: beginTime,
      EndTime: endTime,
      Offset: 0, // Tencent: "目前固定设置为0"
      Limit: PULL_LIMIT,
      PhoneNumber: message.to,
      SmsSdkAppId: this.options.smsSdkAppId,
    });
    if (!answer.ok) throw new Error(`tencent PullSmsSendStatusByPhoneNumber failed: ${answer.failure.message}`);
    const parsed = pullStatusAnswerSchema.safeParse(answer.json);
    if (!parsed.success) throw new Error('tencent PullSmsSendStatusByPhoneNumber answer has an unexpected shape');
    const { Error: error, PullSmsSendStatusSet } = parsed.data.Response;
    if (error) throw new Error(`tencent PullSmsSendStatusByPhoneNumber refused: ${error.Code} ${error.Message ?? ''}`.trim());
    const row = PullSmsSendStatusSet?.find((r) => r.SerialNo === message.providerMessageId);
    if (!row || (row.ReportStatus !== 'SUCCESS' && row.ReportStatus !== 'FAIL')) return undefined;
    return {
      ...toStatusReport({
        serialNo: message.providerMessageId,
        reportStatus: row.ReportStatus,
        occurredAt: row.UserReceiveTime ? new Date(row.UserReceiveTime * 1000) : undefined,
      }),
      // Matched by SerialNo, so the reference is known even when Tencent does not echo it.
      reference: message.id,
    };
  }

  /** Signs and POSTs one API action; network failures and non-200 answers become a retryable result. */
  private async call(action: string, params: Record<string, unknown>): Promise<ApiAnswer> {
    const endpoint = new URL(this.options.endpoint);
    const payload = Buffer.from(JSON.stringify(params), 'utf8');
    const timestamp = Math.floor(this.now().getTime() / 1000);
    const { authorization } = signTc3({
      secretId: this.options.secretId,
      secretKey: this.options.secretKey,
      service: SERVICE,
      // The hostname without a port, as the official SDKs sign it; fetch sends the Host header.
      host: endpoint.hostname,
      contentType: CONTENT_TYPE,
      payload,
      timestamp,
    });
    let response: Response;
    let text: string;
    try {
      response = await this.fetch(new URL('/', endpoint), {
        method: 'POST',
        headers: {
          Authorization: authorization,
          'Content-Type': CONTENT_TYPE,
          'X-TC-Action': action,
          'X-TC-Version': TENCENT_API_VERSION,
          'X-TC-Region': this.options.region,
          'X-TC-Timestamp': String(timestamp),
        },
        body: payload,
        // One deadline for the answer and its body: a body cut off is an answer lost.
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      text = await response.text();
    } catch (cause) {
      return { ok: false, failure: networkFailure(cause, this.options.timeoutMs) };
    }
    if (response.status === 429) {
      return { ok: false, failure: { kind: 'retryable', errorCode: 'THROTTLED', rawCode: 'HTTP 429', message: 'Tencent answered 429', ...retryAfter(response.headers.get('retry-after')) } };
    }
    if (response.status !== 200) {
      // Tencent answers its own errors with 200; anything else is a gateway or an outage.
      return { ok: false, failure: { kind: 'retryable', errorCode: 'PROVIDER_ERROR', rawCode: `HTTP ${response.status}`, message: `Tencent answered HTTP ${response.status}` } };
    }
    try {
      return { ok: true, json: JSON.parse(text) };
    } catch {
      return { ok: false, failure: malformedAnswer(`${action} answer is not JSON`) };
    }
  }

  private refusal(code: string, vendorMessage: string | undefined): SendResult {
    const meaning = classifyTencentCode(code);
    const message = vendorMessage ? `${code}: ${vendorMessage}` : code;
    if (meaning.kind === 'rejected') return { kind: 'rejected', errorCode: meaning.errorCode, rawCode: code, message };
    return {
      kind: 'retryable',
      errorCode: meaning.errorCode,
      rawCode: code,
      message,
      ...(meaning.retryAfterMs === undefined ? {} : { retryAfterMs: meaning.retryAfterMs }),
    };
  }
}

/**
 * A 200 whose body we cannot read: Tencent may well have sent the message, so this is an
 * answer lost, not a refusal.
 */
function malformedAnswer(message: string): Retryable {
  return { kind: 'retryable', errorCode: 'PROVIDER_ERROR', rawCode: 'malformed-answer', message, maybeAccepted: true };
}

function networkFailure(cause: unknown, timeoutMs: number): Retryable {
  return fetchFailure('Tencent', cause, timeoutMs);
}

function retryAfter(header: string | null): { retryAfterMs?: number } {
  const seconds = header === null ? NaN : Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? { retryAfterMs: seconds * 1000 } : {};
}

/** Constant-time comparison that does not leak the length either (both sides are hashed first). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected)) && expected.length > 0;
}

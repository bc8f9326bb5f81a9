// Aliyun SMS (dysmsapi 2017-05-25): SendSms with a registered template, delivery reports and
// replies by HTTP batch push (SmsReport, SmsUp), QuerySendDetails for lookups and polling.
// Aliyun pushes unsigned JSON, so the callback URLs carry a secret token (see verifyWebhook).

import { createHash, timingSafeEqual } from 'node:crypto';
import type { AliyunConfig } from '../../config/config.js';
import { callAliyun, type RpcOutcome } from './aliyun-client.js';
import {
  chinaDate,
  parseAliyunInbound,
  parseAliyunReports,
  parseChinaTime,
  querySendDetailsAnswerSchema,
  sendSmsAnswerSchema,
  toAliyunNumber,
  type AliyunSendDetail,
} from './aliyun-payload.js';
import { aliyunSendStatus, classifyAliyunCode } from './aliyun-status.js';
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

export type AliyunOptions = AliyunConfig & {
  /** The provider's name in Herald (routes, callbacks at /webhooks/NAME/…); default aliyun. */
  name?: string;
  timeoutMs: number;
  /** Clock for request timestamps and "today" in lookups (tests). */
  now?: () => Date;
  /** How many Beijing days (the newest) a lookup searches at most; QuerySendDetails keeps 30. */
  maxLookupDays?: number;
};

/**
 * QuerySendDetails does not return BizId, so a message found there by our reference (OutId)
 * but never acknowledged to us gets this id instead; queryStatus recognises it and searches by
 * OutId. Reports still match it: they carry out_id, which is our message id.
 */
export const ALIYUN_OUT_ID_PREFIX = 'outid:';

const PAGE_SIZE = 50;
const MAX_PAGES = 20;
const REMEMBERED_IDS = 10_000;

export class AliyunProvider implements SmsProvider {
  readonly name: string;
  readonly templateOnly = true;
  /** reference → BizId for submissions this process saw accepted (bounded, oldest out first). */
  private readonly bizIds = new Map<string, string>();

  constructor(readonly options: AliyunOptions) {
    this.name = options.name ?? 'aliyun';
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    const template = message.template?.providerTemplate;
    if (!template) {
      return {
        kind: 'rejected',
        errorCode: 'CONTENT_REJECTED',
        rawCode: 'NO_PROVIDER_TEMPLATE',
        message: message.template
          ? `template "${message.template.name}" has no Aliyun TemplateCode mapped; Aliyun sends registered templates only`
          : 'Aliyun sends registered templates only, and this message has no template',
      };
    }
    // Aliyun does not deduplicate (SendSms "不支持幂等"): a reference this process already saw
    // accepted is answered from memory instead of being sent twice. Across processes, the
    // dispatcher's lookup() is what prevents a second send.
    const known = this.bizIds.get(message.id);
    if (known) return { kind: 'accepted', providerMessageId: known, rawStatus: 'OK' };
    const outcome = await this.call('SendSms', {
      PhoneNumbers: toAliyunNumber(message.to),
      // In China the sender identity is the signature name (【签名】) the account registered.
      SignName: message.from ?? this.options.signName,
      TemplateCode: template.code,
      // Aliyun wants string values ({"code":"123456"}); Herald's variables already are strings.
      TemplateParam: JSON.stringify(message.template?.variables ?? {}),
      OutId: message.id,
    });
    if (outcome.kind === 'failure') return toRetryable(outcome);
    if (outcome.body.Code !== 'OK') return fromErrorAnswer(outcome);
    const accepted = sendSmsAnswerSchema.safeParse(outcome.body);
    if (!accepted.success) {
      // "OK" without a BizId: Aliyun took it, but we cannot name it. Look it up before retrying.
      return { kind: 'retryable', errorCode: 'PROVIDER_ERROR', rawCode: 'OK', message: 'Aliyun answered OK without a BizId', maybeAccepted: true };
    }
    this.remember(message.id, accepted.data.BizId);
    return { kind: 'accepted', providerMessageId: accepted.data.BizId, rawStatus: 'OK' };
  }

  /** Only the token in our own callback URL proves a call is Aliyun's: it signs nothing. */
  verifyWebhook(request: WebhookRequest): boolean {
    let tokens: string[];
    try {
      tokens = new URL(request.url).searchParams.getAll('token');
    } catch {
      return false;
    }
    if (tokens.length !== 1) return false;
    // Comparing digests keeps the comparison constant-time whatever the length.
    const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
    return timingSafeEqual(digest(tokens[0]), digest(this.options.callbackToken));
  }

  parseStatusReport(request: WebhookRequest): StatusReport[] {
    return parseAliyunReports(request.rawBody);
  }

  parseInbound(request: WebhookRequest): InboundReport[] {
    return parseAliyunInbound(request.rawBody);
  }

  /** Aliyun only checks for HTTP 200 and a numeric code; anything else is pushed again. */
  webhookAck(): WebhookAck {
    return { contentType: 'application/json', body: JSON.stringify({ code: 0, msg: '接收成功' }) };
  }

  /**
   * Searches QuerySendDetails for our reference (OutId) on every Beijing day from the hint's
   * `since` to today. Throws when Aliyun cannot be asked (the caller then assumes "maybe").
   */
  async lookup(reference: string, hint: LookupHint): Promise<LookupResult> {
    const detail = await this.findDetail(hint.to, this.daysSince(hint.since).slice(-(this.options.maxLookupDays ?? 30)), { outId: reference });
    if (!detail) return { found: false };
    const { status } = aliyunSendStatus(detail.SendStatus, detail.ErrCode);
    return {
      found: true,
      providerMessageId: this.bizIds.get(reference) ?? `${ALIYUN_OUT_ID_PREFIX}${reference}`,
      status,
      rawStatus: String(detail.SendStatus),
    };
  }

  /** The final status QuerySendDetails knows for an accepted message, or undefined while waiting. */
  async queryStatus(message: SentMessageRef): Promise<StatusReport | undefined> {
    const bizId = message.providerMessageId.startsWith(ALIYUN_OUT_ID_PREFIX) ? undefined : message.providerMessageId;
    // Aliyun files a message under the Beijing day it was sent: that day, or the next one
    // when the submission straddled midnight.
    const detail = await this.findDetail(message.to, this.daysSince(message.sentAt).slice(0, 2), { outId: message.id, bizId });
    if (!detail) return undefined;
    const mapped = aliyunSendStatus(detail.SendStatus, detail.ErrCode);
    if (mapped.status === 'SENT') return undefined;
    return {
      reference: message.id,
      providerMessageId: message.providerMessageId,
      status: mapped.status,
      rawStatus: detail.ErrCode || String(detail.SendStatus),
      ...(mapped.errorCode ? { errorCode: mapped.errorCode, rawErrorCode: detail.ErrCode || String(detail.SendStatus) } : {}),
      ...(detail.ReceiveDate && /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(detail.ReceiveDate) ? { occurredAt: parseChinaTime(detail.ReceiveDate) } : {}),
    };
  }

  /**
   * Pages through QuerySendDetails day by day (Beijing dates, oldest first) until a record
   * matches: by BizId when we have it (Aliyun filters), else by OutId (we filter).
   */
  private async findDetail(to: string, sendDates: string[], match: { outId: string; bizId?: string }): Promise<AliyunSendDetail | undefined> {
    const phoneNumber = toAliyunNumber(to);
    for (const sendDate of sendDates) {
      for (let page = 1; page <= MAX_PAGES; page++) {
        const outcome = await this.call('QuerySendDetails', {
          PhoneNumber: phoneNumber,
          SendDate: sendDate,
          PageSize: String(PAGE_SIZE),
          CurrentPage: String(page),
          ...(match.bizId ? { BizId: match.bizId } : {}),
        });
        if (outcome.kind === 'failure') throw new Error(`Aliyun QuerySendDetails failed: ${outcome.message}`);
        if (outcome.body.Code !== 'OK') throw new Error(`Aliyun QuerySendDetails answered ${outcome.body.Code}: ${outcome.body.Message ?? ''}`);
        const parsed = querySendDetailsAnswerSchema.safeParse(outcome.body);
        if (!parsed.success) throw new Error('Aliyun QuerySendDetails answer has an unexpected shape');
        const details = parsed.data.SmsSendDetailDTOs?.SmsSendDetailDTO ?? [];
        const found = match.bizId ? details[0] : details.find((detail) => detail.OutId === match.outId);
        if (found) return found;
        if (details.length < PAGE_SIZE || page * PAGE_SIZE >= parsed.data.TotalCount) break;
      }
    }
    return undefined;
  }

  /** Beijing dates (yyyyMMdd) from `since` to today, oldest first. */
  private daysSince(since: Date): string[] {
    const today = this.now();
    const days: string[] = [];
    for (let at = new Date(Math.min(since.getTime(), today.getTime())); ; at = new Date(at.getTime() + 86_400_000)) {
      const day = chinaDate(at);
      if (days.at(-1) !== day) days.push(day);
      if (day >= chinaDate(today)) break;
    }
    return days;
  }

  private call(action: string, params: Record<string, string>): Promise<RpcOutcome> {
    const { accessKeyId, accessKeySecret, endpoint, timeoutMs } = this.options;
    return callAliyun({ accessKeyId, accessKeySecret, endpoint, timeoutMs, now: this.options.now }, action, params);
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  private remember(reference: string, bizId: string): void {
    this.bizIds.delete(reference);
    this.bizIds.set(reference, bizId);
    if (this.bizIds.size > REMEMBERED_IDS) this.bizIds.delete(this.bizIds.keys().next().value!);
  }
}

function toRetryable(outcome: Extract<RpcOutcome, { kind: 'failure' }>): SendResult {
  return {
    kind: 'retryable',
    errorCode: outcome.errorCode,
    rawCode: outcome.rawCode,
    message: outcome.message,
    ...(outcome.retryAfterMs === undefined ? {} : { retryAfterMs: outcome.retryAfterMs }),
    // Only set when true: "unset" means Aliyun certainly does not have it.
    ...(outcome.maybeAccepted ? { maybeAccepted: true } : {}),
  };
}

/** An answer with a Code other than OK: an explicit refusal, so Aliyun did not take it. */
function fromErrorAnswer(outcome: Extract<RpcOutcome, { kind: 'answer' }>): SendResult {
  const code = outcome.body.Code;
  const message = `${code}: ${outcome.body.Message ?? 'no message'}`;
  let classified = classifyAliyunCode(code);
  // A code we do not know still tells us something by its HTTP status.
  if (classified.errorCode === 'UNKNOWN' && outcome.httpStatus === 429) classified = { kind: 'retryable', errorCode: 'THROTTLED' };
  else if (classified.errorCode === 'UNKNOWN' && outcome.httpStatus >= 500) classified = { kind: 'retryable', errorCode: 'PROVIDER_ERROR' };
  if (classified.kind === 'rejected') return { kind: 'rejected', errorCode: classified.errorCode, rawCode: code, message };
  const retryAfterMs = outcome.retryAfterMs ?? classified.retryAfterMs;
  return { kind: 'retryable', errorCode: classified.errorCode, rawCode: code, message, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
}

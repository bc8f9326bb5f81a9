// The one place Aliyun's own words become Herald's: API answer Codes (SendSms and
// QuerySendDetails), delivery receipt err_codes (SmsReport, QuerySendDetails ErrCode) and
// QuerySendDetails SendStatus. Sources: "API错误码" for dysmsapi
// (https://help.aliyun.com/zh/sms/developer-reference/api-error-codes), the POP gateway's
// common codes (SignatureDoesNotMatch, InvalidAccessKeyId.NotFound, ...), and "短信回执错误码"
// (https://help.aliyun.com/document_detail/101347.htm,
// https://help.aliyun.com/en/sms/developer-reference/delivery-receipt-error-codes), whose
// carrier codes follow the CMPP gateway families (MK/MN/MI/MB handset side, DB blacklists and
// numbers, IB/IC gateway to gateway).

import type { MessageStatus } from '../../domain/status-machine.js';
import type { ProviderErrorCode } from '../types.js';

export interface AliyunCodeOutcome {
  /** rejected: the message is bad anywhere; retryable: this attempt or this account failed. */
  kind: 'rejected' | 'retryable';
  errorCode: ProviderErrorCode;
  retryAfterMs?: number;
}

const rejected = (errorCode: ProviderErrorCode): AliyunCodeOutcome => ({ kind: 'rejected', errorCode });
const retryable = (errorCode: ProviderErrorCode, retryAfterMs?: number): AliyunCodeOutcome =>
  retryAfterMs === undefined ? { kind: 'retryable', errorCode } : { kind: 'retryable', errorCode, retryAfterMs };

/**
 * Answer Codes other than OK. Per-message refusals (number, template, signature, variables)
 * are permanent; account, credential and quota problems are retryable ACCOUNT_ERROR (the
 * message is fine, another provider may take it, and the circuit breaker opens for Aliyun).
 */
export const aliyunApiCodes: Readonly<Record<string, AliyunCodeOutcome>> = {
  // The number
  'isv.MOBILE_NUMBER_ILLEGAL': rejected('INVALID_NUMBER'),
  // The template, its variables, the signature (Aliyun reviews all three)
  'isv.SMS_TEMPLATE_ILLEGAL': rejected('CONTENT_REJECTED'),
  'isv.SMS_SIGNATURE_ILLEGAL': rejected('CONTENT_REJECTED'),
  'isv.SMS_SIGNATURE_SCENE_ILLEGAL': rejected('CONTENT_REJECTED'),
  'isv.SMS_SIGN_ILLEGAL': rejected('CONTENT_REJECTED'),
  'isv.SIGN_STATE_ILLEGAL': rejected('CONTENT_REJECTED'),
  'isv.SMS_CONTENT_ILLEGAL': rejected('CONTENT_REJECTED'),
  'isv.TEMPLATE_MISSING_PARAMETERS': rejected('CONTENT_REJECTED'),
  'isv.TEMPLATE_PARAMS_ILLEGAL': rejected('CONTENT_REJECTED'),
  'isv.INVALID_JSON_PARAM': rejected('CONTENT_REJECTED'),
  'isv.PARAM_LENGTH_LIMIT': rejected('CONTENT_REJECTED'),
  'isv.PARAM_NOT_SUPPORT_URL': rejected('CONTENT_REJECTED'),
  // "黑名单管控": the variables carry content Aliyun will not pass (URLs and the like).
  'isv.BLACK_KEY_CONTROL_LIMIT': rejected('CONTENT_REJECTED'),
  // An international template cannot reach a mainland number.
  'isv.DOMESTIC_NUMBER_NOT_SUPPORTED': rejected('CONTENT_REJECTED'),
  'isv.INVALID_PARAMETERS': rejected('UNKNOWN'),
  'isv.MOBILE_COUNT_OVER_LIMIT': rejected('UNKNOWN'),
  // Frequency per recipient and signature (1/min, 5/h, 10/day for codes): wait a minute.
  'isv.BUSINESS_LIMIT_CONTROL': retryable('THROTTLED', 60_000),
  // QPS limits of the API gateway.
  Throttling: retryable('THROTTLED', 1_000),
  'Throttling.User': retryable('THROTTLED', 1_000),
  'Throttling.Api': retryable('THROTTLED', 1_000),
  // The account: quotas set in the console, balance, subscription, credentials, permissions.
  'isv.DAY_LIMIT_CONTROL': retryable('ACCOUNT_ERROR'),
  'isv.MONTH_LIMIT_CONTROL': retryable('ACCOUNT_ERROR'),
  'isv.AMOUNT_NOT_ENOUGH': retryable('ACCOUNT_ERROR'),
  'isv.OUT_OF_SERVICE': retryable('ACCOUNT_ERROR'),
  'isv.PRODUCT_UN_SUBSCRIPT': retryable('ACCOUNT_ERROR'),
  'isv.PRODUCT_UNSUBSCRIBE': retryable('ACCOUNT_ERROR'),
  'isv.ACCOUNT_NOT_EXISTS': retryable('ACCOUNT_ERROR'),
  'isv.ACCOUNT_ABNORMAL': retryable('ACCOUNT_ERROR'),
  'isv.DENY_IP_RANGE': retryable('ACCOUNT_ERROR'),
  'isv.EXTEND_CODE_ERROR': retryable('ACCOUNT_ERROR'),
  'isp.RAM_PERMISSION_DENY': retryable('ACCOUNT_ERROR'),
  'isv.RAM_PERMISSION_DENY': retryable('ACCOUNT_ERROR'),
  'Forbidden.RAM': retryable('ACCOUNT_ERROR'),
  'InvalidAccessKeyId.NotFound': retryable('ACCOUNT_ERROR'),
  'InvalidAccessKeyId.Inactive': retryable('ACCOUNT_ERROR'),
  SignatureDoesNotMatch: retryable('ACCOUNT_ERROR'),
  // Our clock is off by more than 15 minutes: every request will fail until it is fixed.
  'InvalidTimeStamp.Expired': retryable('ACCOUNT_ERROR'),
  // A fresh nonce on the next attempt fixes it (we never reuse one on purpose).
  SignatureNonceUsed: retryable('PROVIDER_ERROR'),
  'isp.SYSTEM_ERROR': retryable('PROVIDER_ERROR'),
  'isv.SYSTEM_ERROR': retryable('PROVIDER_ERROR'),
  InternalError: retryable('PROVIDER_ERROR'),
  ServiceUnavailable: retryable('PROVIDER_ERROR'),
};

/**
 * An answer Code Herald has no entry for: transient (UNKNOWN, retryable) so the message may
 * still reach the handset through a retry or another provider; a wrongly permanent answer
 * would lose it for good.
 */
export function classifyAliyunCode(code: string): AliyunCodeOutcome {
  return aliyunApiCodes[code] ?? retryable('UNKNOWN');
}

/** A final receipt: which final status, and why. */
export interface AliyunReceiptOutcome {
  status: Extract<MessageStatus, 'UNDELIVERED' | 'EXPIRED'>;
  errorCode: ProviderErrorCode;
}

/** Receipt err_codes that are whole words (carrier gateway words and Aliyun's own). */
const receiptWords: Readonly<Record<string, AliyunReceiptOutcome>> = {
  EXPIRED: { status: 'EXPIRED', errorCode: 'EXPIRED' },
  UNDELIV: { status: 'UNDELIVERED', errorCode: 'UNDELIVERABLE' },
  REJECTD: { status: 'UNDELIVERED', errorCode: 'UNKNOWN' },
  MBBLACK: { status: 'UNDELIVERED', errorCode: 'BLOCKED' },
  DBBLACK: { status: 'UNDELIVERED', errorCode: 'BLOCKED' },
  BLACK: { status: 'UNDELIVERED', errorCode: 'BLOCKED' },
  // Invalid, unallocated numbers.
  'DB:0101': { status: 'UNDELIVERED', errorCode: 'INVALID_NUMBER' },
  'MK:0001': { status: 'UNDELIVERED', errorCode: 'INVALID_NUMBER' },
  // Carrier blacklists (complaints, 12321 reports, unsubscribed).
  'DB:0141': { status: 'UNDELIVERED', errorCode: 'BLOCKED' },
  'DB:0144': { status: 'UNDELIVERED', errorCode: 'BLOCKED' },
  // Carrier flow control: the carrier side failed, not the handset.
  'IB:0008': { status: 'UNDELIVERED', errorCode: 'PROVIDER_ERROR' },
  'DB:0142': { status: 'UNDELIVERED', errorCode: 'THROTTLED' },
};

/**
 * Prefixes of the carriers' CMPP/SGIP receipt codes: MK/MN/MI/MB come from the SMSC about
 * the handset (off, out of service, stopped), IB/IC/IA from gateways between carriers.
 */
const receiptPrefixes: ReadonlyArray<[string, AliyunReceiptOutcome]> = [
  ['MK:', { status: 'UNDELIVERED', errorCode: 'UNDELIVERABLE' }],
  ['MN:', { status: 'UNDELIVERED', errorCode: 'UNDELIVERABLE' }],
  ['MI:', { status: 'UNDELIVERED', errorCode: 'UNDELIVERABLE' }],
  ['MB:', { status: 'UNDELIVERED', errorCode: 'UNDELIVERABLE' }],
  ['DB:', { status: 'UNDELIVERED', errorCode: 'UNDELIVERABLE' }],
  ['IB:', { status: 'UNDELIVERED', errorCode: 'PROVIDER_ERROR' }],
  ['IC:', { status: 'UNDELIVERED', errorCode: 'PROVIDER_ERROR' }],
  ['IA:', { status: 'UNDELIVERED', errorCode: 'PROVIDER_ERROR' }],
];

/** Maps the err_code of a failed receipt; Aliyun's own isv./isp. codes reuse the API table. */
export function classifyAliyunReceipt(errCode: string): AliyunReceiptOutcome {
  const code = errCode.trim();
  const word = receiptWords[code];
  if (word) return word;
  const api = aliyunApiCodes[code];
  if (api) return { status: 'UNDELIVERED', errorCode: api.errorCode };
  const prefixed = receiptPrefixes.find(([prefix]) => code.startsWith(prefix));
  return prefixed ? prefixed[1] : { status: 'UNDELIVERED', errorCode: 'UNKNOWN' };
}

/** QuerySendDetails SendStatus: 1 waiting for the receipt, 2 failed, 3 delivered. */
export function aliyunSendStatus(sendStatus: number, errCode: string | undefined): { status: MessageStatus; errorCode?: ProviderErrorCode } {
  switch (sendStatus) {
    case 3:
      return { status: 'DELIVERED' };
    case 2:
      return classifyAliyunReceipt(errCode ?? '');
    default:
      // 1, or a value Aliyun added later: nothing final yet; the provider holds the message.
      return { status: 'SENT' };
  }
}

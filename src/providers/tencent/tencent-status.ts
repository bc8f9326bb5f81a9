// Tencent's codes and what they mean to Herald: ONE table for the API error codes (per-number
// SendStatus.Code and top-level Response.Error.Code share one namespace) and one for the
// delivery receipts. Sources: the SMS 2021-01-11 error list
// (https://cloud.tencent.com/document/api/382/59177, mirrored in tencentcloud-sdk-go
// sms/v20210111/errors.go), the common error codes (https://cloud.tencent.com/document/api/382/52075)
// and the status callback (https://cloud.tencent.com/document/api/382/59178).
//
// Classification (what the dispatcher's failover relies on):
// - rejected: the message itself is bad for any provider (number, blacklist, content, template);
// - retryable ACCOUNT_ERROR: credentials, balance, app or permission: the message is fine, another
//   provider may take it, and the circuit breaker opens for Tencent;
// - retryable THROTTLED / PROVIDER_ERROR: Tencent's limits or failures;
// - anything else: retryable UNKNOWN (a new code should fail over rather than lose the message).

import type { MessageStatus } from '../../domain/status-machine.js';
import type { ProviderErrorCode } from '../types.js';

export interface TencentCodeMeaning {
  kind: 'rejected' | 'retryable';
  errorCode: ProviderErrorCode;
  /** How long Tencent's own rule makes a retry pointless, when the code says so. */
  retryAfterMs?: number;
}

const rejected = (errorCode: ProviderErrorCode): TencentCodeMeaning => ({ kind: 'rejected', errorCode });
const retryable = (errorCode: ProviderErrorCode, retryAfterMs?: number): TencentCodeMeaning =>
  retryAfterMs === undefined ? { kind: 'retryable', errorCode } : { kind: 'retryable', errorCode, retryAfterMs };

/** Every code Herald knows, verbatim. `Ok` (success) is not an error and is not listed. */
export const tencentErrorCodes: Readonly<Record<string, TencentCodeMeaning>> = {
  // The recipient.
  'InvalidParameterValue.IncorrectPhoneNumber': rejected('INVALID_NUMBER'),
  'FailedOperation.PhoneNumberInBlacklist': rejected('BLOCKED'), // unsubscribed or carrier do-not-disturb list
  // A lone number cannot mix regions; if Tencent says so anyway, the number is what it refuses.
  'UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber': rejected('INVALID_NUMBER'),
  // The content: template, signature (the sender name, part of the content in China), words.
  'FailedOperation.TemplateIncorrectOrUnapproved': rejected('CONTENT_REJECTED'),
  'FailedOperation.SignatureIncorrectOrUnapproved': rejected('CONTENT_REJECTED'),
  'FailedOperation.ContainSensitiveWord': rejected('CONTENT_REJECTED'),
  'InvalidParameter.DirtyWordFound': rejected('CONTENT_REJECTED'),
  'InvalidParameterValue.ContentLengthLimit': rejected('CONTENT_REJECTED'),
  'InvalidParameterValue.ProhibitedUseUrlInTemplateParameter': rejected('CONTENT_REJECTED'),
  'InvalidParameterValue.TemplateParameterFormatError': rejected('CONTENT_REJECTED'), // OTP params: 0-6 digits
  'InvalidParameterValue.TemplateParameterLengthLimit': rejected('CONTENT_REJECTED'), // > 12 chars, personal accounts

  // Tencent cannot serve this region; another provider may (so not a refusal of the message).
  'UnsupportedOperation.UnsuportedRegion': retryable('BLOCKED'), // sic: Tencent's spelling
  // Marketing only 08:00-22:00: the same message goes through later.
  'FailedOperation.MarketingSendTimeConstraint': retryable('THROTTLED'),

  // Account, credentials, balance, app: fine message, unusable provider.
  'FailedOperation.InsufficientBalanceInSmsPackage': retryable('ACCOUNT_ERROR'),
  'UnauthorizedOperation.SerivceSuspendDueToArrears': retryable('ACCOUNT_ERROR'), // sic
  'UnauthorizedOperation.SdkAppIdIsDisabled': retryable('ACCOUNT_ERROR'),
  'UnauthorizedOperation.SmsSdkAppIdVerifyFail': retryable('ACCOUNT_ERROR'),
  'UnauthorizedOperation.RequestPermissionDeny': retryable('ACCOUNT_ERROR'),
  'UnauthorizedOperation.RequestIpNotInWhitelist': retryable('ACCOUNT_ERROR'),
  'UnauthorizedOperation.IndividualUserMarketingSmsPermissionDeny': retryable('ACCOUNT_ERROR'),
  'InvalidParameterValue.SdkAppIdNotExist': retryable('ACCOUNT_ERROR'),
  'InvalidParameter.AppidAndBizId': retryable('ACCOUNT_ERROR'),
  'AuthFailure.SignatureFailure': retryable('ACCOUNT_ERROR'),
  'AuthFailure.SignatureExpire': retryable('ACCOUNT_ERROR'), // our clock is > 5 min off
  'AuthFailure.SecretIdNotFound': retryable('ACCOUNT_ERROR'),
  'AuthFailure.InvalidSecretId': retryable('ACCOUNT_ERROR'),
  'AuthFailure.InvalidAuthorization': retryable('ACCOUNT_ERROR'),
  'AuthFailure.TokenFailure': retryable('ACCOUNT_ERROR'),
  'AuthFailure.MFAFailure': retryable('ACCOUNT_ERROR'),
  'AuthFailure.UnauthorizedOperation': retryable('ACCOUNT_ERROR'),
  'InternalError.RequestTimeException': retryable('ACCOUNT_ERROR'), // clock > 10 min off: a setup problem
  IpInBlacklist: retryable('ACCOUNT_ERROR'),
  IpNotInWhitelist: retryable('ACCOUNT_ERROR'),

  // Tencent's limits (console-configurable frequency policy and API rate limits).
  RequestLimitExceeded: retryable('THROTTLED'),
  'RequestLimitExceeded.GlobalRegionUinLimitExceeded': retryable('THROTTLED'),
  'RequestLimitExceeded.IPLimitExceeded': retryable('THROTTLED'),
  'RequestLimitExceeded.UinLimitExceeded': retryable('THROTTLED'),
  'LimitExceeded.PhoneNumberThirtySecondLimit': retryable('THROTTLED', 30_000),
  'LimitExceeded.PhoneNumberOneHourLimit': retryable('THROTTLED'),
  'LimitExceeded.PhoneNumberDailyLimit': retryable('THROTTLED'),
  'LimitExceeded.PhoneNumberSameContentDailyLimit': retryable('THROTTLED'),
  'LimitExceeded.DeliveryFrequencyLimit': retryable('THROTTLED'),
  'LimitExceeded.AppDailyLimit': retryable('THROTTLED'),
  'LimitExceeded.DailyLimit': retryable('THROTTLED'),

  // Tencent failing, or refusing our request's shape (a Herald bug: another provider can still send it).
  InternalError: retryable('PROVIDER_ERROR'),
  'InternalError.Timeout': retryable('PROVIDER_ERROR'),
  'InternalError.OtherError': retryable('PROVIDER_ERROR'),
  'InternalError.SendAndRecvFail': retryable('PROVIDER_ERROR'),
  'InternalError.UnknownError': retryable('PROVIDER_ERROR'),
  'InternalError.JsonParseFail': retryable('PROVIDER_ERROR'),
  'InternalError.SigVerificationFail': retryable('PROVIDER_ERROR'),
  'InternalError.SigFieldMissing': retryable('PROVIDER_ERROR'),
  'InternalError.RestApiInterfaceNotExist': retryable('PROVIDER_ERROR'),
  'FailedOperation.OtherError': retryable('PROVIDER_ERROR'),
  'FailedOperation.ParametersOtherError': retryable('PROVIDER_ERROR'),
  'FailedOperation.FailResolvePacket': retryable('PROVIDER_ERROR'),
  'FailedOperation.JsonParseFail': retryable('PROVIDER_ERROR'),
  'MissingParameter.EmptyPhoneNumberSet': retryable('PROVIDER_ERROR'),
  'LimitExceeded.PhoneNumberCountLimit': retryable('PROVIDER_ERROR'),
  ServiceUnavailable: retryable('PROVIDER_ERROR'),
  ResourceUnavailable: retryable('PROVIDER_ERROR'),
  ActionOffline: retryable('PROVIDER_ERROR'),
  InvalidAction: retryable('PROVIDER_ERROR'),
  NoSuchVersion: retryable('PROVIDER_ERROR'),
  NoSuchProduct: retryable('PROVIDER_ERROR'),
  InvalidParameter: retryable('PROVIDER_ERROR'),
  InvalidParameterValue: retryable('PROVIDER_ERROR'),
  MissingParameter: retryable('PROVIDER_ERROR'),
};

const UNKNOWN_CODE: TencentCodeMeaning = { kind: 'retryable', errorCode: 'UNKNOWN' };

/** What a Tencent error code means to Herald; families of codes we have not listed fall back by prefix. */
export function classifyTencentCode(code: string): TencentCodeMeaning {
  const known = tencentErrorCodes[code];
  if (known) return known;
  // Tencent adds sub-codes under stable families; the family says enough to route.
  if (code.startsWith('AuthFailure') || code.startsWith('UnauthorizedOperation')) return retryable('ACCOUNT_ERROR');
  if (code.startsWith('RequestLimitExceeded') || code.startsWith('LimitExceeded')) return retryable('THROTTLED');
  if (code.startsWith('InternalError')) return retryable('PROVIDER_ERROR');
  return UNKNOWN_CODE;
}

/** `report_status` (callback) and `ReportStatus` (pull API): the only two words Tencent sends. */
export const tencentReportStatuses = {
  SUCCESS: 'DELIVERED',
  FAIL: 'UNDELIVERED',
} as const satisfies Record<string, MessageStatus>;

export type TencentReportStatus = keyof typeof tencentReportStatuses;

/**
 * Receipt codes (`errmsg`) of a FAIL report that say more than "undelivered". Tencent's
 * receipt list (https://cloud.tencent.com/document/product/382/3771, "状态回执错误码") holds
 * carrier codes; the CMPP/SMPP stat words come through verbatim from the gateways.
 * Any other FAIL code is UNDELIVERED/UNDELIVERABLE; the code is kept as rawErrorCode.
 */
export const tencentReceiptCodes: Readonly<Record<string, { status: MessageStatus; errorCode: ProviderErrorCode }>> = {
  '-106': { status: 'UNDELIVERED', errorCode: 'CONTENT_REJECTED' }, // carrier keyword block
  '002': { status: 'UNDELIVERED', errorCode: 'UNDELIVERABLE' }, // switched off, out of service, unreachable
  EXPIRED: { status: 'EXPIRED', errorCode: 'EXPIRED' },
  UNDELIV: { status: 'UNDELIVERED', errorCode: 'UNDELIVERABLE' },
  REJECTD: { status: 'UNDELIVERED', errorCode: 'BLOCKED' },
};

/** Maps one receipt onto Herald's status; SUCCESS carries no error code whatever errmsg says. */
export function mapTencentReceipt(reportStatus: TencentReportStatus, errmsg: string | undefined): { status: MessageStatus; errorCode?: ProviderErrorCode } {
  if (reportStatus === 'SUCCESS') return { status: tencentReportStatuses.SUCCESS };
  return (errmsg && tencentReceiptCodes[errmsg]) || { status: tencentReportStatuses.FAIL, errorCode: 'UNDELIVERABLE' };
}

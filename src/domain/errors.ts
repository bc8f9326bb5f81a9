// Expected failures, returned as values and exposed as members of each mutation's result
// union (docs/api.md "Errors"). One class per ErrorCode; only bugs are thrown.

export const errorCodes = [
  'VALIDATION_FAILED',
  'INVALID_PHONE_NUMBER',
  'RATE_LIMITED',
  'SENSITIVE_CONTENT',
  'RECIPIENT_OPTED_OUT',
  'TEMPLATE_NOT_APPROVED',
  'TEMPLATE_VARIABLES_MISMATCH',
  'NOT_FOUND',
  'NOT_CANCELABLE',
  'IDEMPOTENCY_CONFLICT',
  'FORBIDDEN',
  'VERIFICATION_FAILED',
  'INVALID_TEMPLATE_STATE',
  'VERIFICATION_BLOCKED',
  'UNKNOWN_PROVIDER',
  'PROVIDER_IN_USE',
  'BUDGET_EXCEEDED',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export abstract class HeraldError extends Error {
  abstract readonly code: ErrorCode;
}

export interface ValidationIssue {
  path: string[];
  message: string;
}

export class ValidationError extends HeraldError {
  readonly code = 'VALIDATION_FAILED';
  constructor(readonly issues: ValidationIssue[]) {
    super(issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; '));
  }
}

export class InvalidPhoneNumberError extends HeraldError {
  readonly code = 'INVALID_PHONE_NUMBER';
  constructor(readonly input: string, reason = 'is not a valid phone number') {
    super(`"${input}" ${reason}`);
  }
}

export class NotFoundError extends HeraldError {
  readonly code = 'NOT_FOUND';
  constructor(what: string) {
    super(`${what} not found`);
  }
}

export class NotCancelableError extends HeraldError {
  readonly code = 'NOT_CANCELABLE';
}

export class IdempotencyConflictError extends HeraldError {
  readonly code = 'IDEMPOTENCY_CONFLICT';
  constructor(readonly idempotencyKey: string) {
    super(`idempotency key "${idempotencyKey}" was already used with a different input in the last 24 hours`);
  }
}

export class ForbiddenError extends HeraldError {
  readonly code = 'FORBIDDEN';
}

export class RateLimitedError extends HeraldError {
  readonly code = 'RATE_LIMITED';
  constructor(readonly retryAfterSeconds: number, message = `rate limited; retry after ${retryAfterSeconds} s`) {
    super(message);
  }
}

export class SensitiveContentError extends HeraldError {
  readonly code = 'SENSITIVE_CONTENT';
  constructor(readonly words: string[]) {
    super(`the content contains words that are not allowed: ${words.join(', ')}`);
  }
}

export class RecipientOptedOutError extends HeraldError {
  readonly code = 'RECIPIENT_OPTED_OUT';
  constructor(readonly phone: string) {
    super(`${phone} has opted out of messages from this account`);
  }
}

export class TemplateNotApprovedError extends HeraldError {
  readonly code = 'TEMPLATE_NOT_APPROVED';
  constructor(readonly status: string) {
    super(`the template is ${status}; only APPROVED templates can be sent`);
  }
}

export class TemplateVariablesMismatchError extends HeraldError {
  readonly code = 'TEMPLATE_VARIABLES_MISMATCH';
  constructor(
    readonly missing: string[],
    readonly unknown: string[],
  ) {
    const parts = [missing.length ? `missing: ${missing.join(', ')}` : '', unknown.length ? `unknown: ${unknown.join(', ')}` : ''];
    super(`template variables do not match (${parts.filter(Boolean).join('; ')})`);
  }
}

/** A template lifecycle step that its current status does not allow (e.g. editing while in review). */
export class InvalidTemplateStateError extends HeraldError {
  readonly code = 'INVALID_TEMPLATE_STATE';
  constructor(
    readonly status: string,
    message: string,
  ) {
    super(message);
  }
}

/** Why a checkVerification did not approve. */
export type VerificationFailureReason = 'INCORRECT_CODE' | 'EXPIRED' | 'MAX_ATTEMPTS_REACHED' | 'NOT_FOUND';

const failureMessages: Record<VerificationFailureReason, string> = {
  INCORRECT_CODE: 'the code is not correct',
  EXPIRED: 'the verification has expired; start a new one',
  MAX_ATTEMPTS_REACHED: 'too many wrong codes; start a new verification',
  NOT_FOUND: 'there is no pending verification for this number',
};

/** A code check that did not approve; `attemptsLeft` is what remains for the same verification. */
export class VerificationFailedError extends HeraldError {
  readonly code = 'VERIFICATION_FAILED';
  constructor(
    readonly reason: VerificationFailureReason,
    readonly attemptsLeft: number,
  ) {
    super(reason === 'INCORRECT_CODE' ? `${failureMessages[reason]}; ${attemptsLeft} attempts left` : failureMessages[reason]);
  }
}

/** Anti-pumping refusals of a verification start (SMS pumping / toll fraud protection). */
export type VerificationBlockReason = 'COUNTRY_NOT_ALLOWED' | 'PREFIX_VELOCITY';

/**
 * A verification start refused by the account's anti-pumping rules: a country outside its OTP
 * allow-list, or too many codes to one number range. `country`, `prefix` and
 * `blockedForSeconds` say which rule and for how long, so an operator can tell fraud from
 * a misconfigured allow-list.
 */
export class VerificationBlockedError extends HeraldError {
  readonly code = 'VERIFICATION_BLOCKED';
  constructor(
    readonly reason: VerificationBlockReason,
    readonly details: { country?: string | null; prefix?: string | null; blockedForSeconds?: number | null },
    message: string,
  ) {
    super(message);
  }
}

/** A routing document names providers that are not defined (neither in SMS_PROVIDERS nor added at run time). */
export class UnknownProviderError extends HeraldError {
  readonly code = 'UNKNOWN_PROVIDER';
  constructor(readonly providers: string[], defined: readonly string[]) {
    super(`no provider is named ${providers.join(', ')} (defined: ${defined.join(', ') || 'none'}); add it first with addProvider`);
  }
}

/** A provider cannot be removed while the routing names it. */
export class ProviderInUseError extends HeraldError {
  readonly code = 'PROVIDER_IN_USE';
  constructor(readonly provider: string) {
    super(`the routing names ${provider}; change the routing first (setRouting), or disable the provider with updateProvider(enabled: false)`);
  }
}

import {
  errorCodes,
  InvalidTemplateStateError,
  RecipientOptedOutError,
  SensitiveContentError,
  TemplateNotApprovedError,
  TemplateVariablesMismatchError,
  ForbiddenError,
  HeraldError,
  IdempotencyConflictError,
  InvalidPhoneNumberError,
  NotCancelableError,
  NotFoundError,
  ProviderInUseError,
  UnknownProviderError,
  RateLimitedError,
  ValidationError,
  VerificationBlockedError,
  VerificationFailedError,
  type ValidationIssue,
} from '../domain/errors.js';
import { builder } from './builder.js';

export const ErrorCodeEnum = builder.enumType('ErrorCode', {
  description: 'Stable, machine-readable reason for an expected failure.',
  values: errorCodes,
});

export const ErrorInterface = builder.interfaceRef<HeraldError>('Error').implement({
  description: 'Every expected failure implements this interface.',
  fields: (t) => ({
    message: t.exposeString('message'),
    code: t.field({ type: ErrorCodeEnum, resolve: (error) => error.code }),
  }),
});

const ValidationIssueRef = builder.objectRef<ValidationIssue>('ValidationIssue').implement({
  fields: (t) => ({
    path: t.exposeStringList('path', { description: 'Input path of the bad value, e.g. ["input", "to"].' }),
    message: t.exposeString('message'),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  description: 'The input is malformed; `issues` lists every problem at once.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ issues: t.field({ type: [ValidationIssueRef], resolve: (e) => e.issues }) }),
});

builder.objectType(InvalidPhoneNumberError, {
  name: 'InvalidPhoneNumberError',
  description: 'The recipient is not a valid phone number for its country.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ input: t.exposeString('input') }),
});

builder.objectType(NotFoundError, { name: 'NotFoundError', interfaces: [ErrorInterface] });
builder.objectType(NotCancelableError, { name: 'NotCancelableError', interfaces: [ErrorInterface] });
builder.objectType(ForbiddenError, { name: 'ForbiddenError', interfaces: [ErrorInterface] });

builder.objectType(IdempotencyConflictError, {
  name: 'IdempotencyConflictError',
  description: 'The idempotency key was used in the last 24 hours with a different input.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ idempotencyKey: t.exposeString('idempotencyKey') }),
});

builder.objectType(RateLimitedError, {
  name: 'RateLimitedError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ retryAfterSeconds: t.exposeInt('retryAfterSeconds') }),
});

builder.objectType(SensitiveContentError, {
  name: 'SensitiveContentError',
  description: 'The content contains words the account may not send; `words` names them.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ words: t.exposeStringList('words') }),
});

builder.objectType(RecipientOptedOutError, {
  name: 'RecipientOptedOutError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ phone: t.exposeString('phone') }),
});

builder.objectType(TemplateNotApprovedError, {
  name: 'TemplateNotApprovedError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ status: t.exposeString('status') }),
});

builder.objectType(TemplateVariablesMismatchError, {
  name: 'TemplateVariablesMismatchError',
  description: 'Variables the template needs that were not given, and given ones it does not have.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ missing: t.exposeStringList('missing'), unknown: t.exposeStringList('unknown') }),
});

builder.objectType(InvalidTemplateStateError, {
  name: 'InvalidTemplateStateError',
  description: "The template's status does not allow this step (e.g. editing while in review).",
  interfaces: [ErrorInterface],
  fields: (t) => ({ status: t.exposeString('status') }),
});

const VerificationFailureReasonEnum = builder.enumType('VerificationFailureReason', {
  description: 'INCORRECT_CODE counts an attempt; NOT_FOUND: no pending verification (none, or already approved or replaced).',
  values: ['INCORRECT_CODE', 'EXPIRED', 'MAX_ATTEMPTS_REACHED', 'NOT_FOUND'] as const,
});

const VerificationBlockReasonEnum = builder.enumType('VerificationBlockReason', {
  description: 'Anti-pumping rule that refused a start: the OTP country allow-list, or the velocity limit per number range.',
  values: ['COUNTRY_NOT_ALLOWED', 'PREFIX_VELOCITY'] as const,
});

builder.objectType(VerificationFailedError, {
  name: 'VerificationFailedError',
  description: 'The code did not approve the verification; `reason` says why.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    reason: t.field({ type: VerificationFailureReasonEnum, resolve: (e) => e.reason }),
    attemptsLeft: t.exposeInt('attemptsLeft', { description: 'Checks left for the same verification (0 unless INCORRECT_CODE).' }),
  }),
});

builder.objectType(VerificationBlockedError, {
  name: 'VerificationBlockedError',
  description: "Refused by the account's anti-pumping rules (AccountSettings.otpAllowedCountries, otpPrefixVelocity).",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    reason: t.field({ type: VerificationBlockReasonEnum, resolve: (e) => e.reason }),
    country: t.string({ nullable: true, description: 'COUNTRY_NOT_ALLOWED: the number\'s country (null for non-geographic numbers).', resolve: (e) => e.details.country ?? null }),
    prefix: t.string({ nullable: true, description: 'PREFIX_VELOCITY: the number range that is over its limit.', resolve: (e) => e.details.prefix ?? null }),
    // Not `retryAfterSeconds`: RateLimitedError has that as Int!, and one selection over both
    // union members with different nullability is a GraphQL validation error.
    blockedForSeconds: t.int({
      nullable: true,
      description: 'PREFIX_VELOCITY: seconds until the range has room again. Null for COUNTRY_NOT_ALLOWED, which lasts until the allow-list changes.',
      resolve: (e) => e.details.blockedForSeconds ?? null,
    }),
  }),
});

builder.objectType(UnknownProviderError, {
  name: 'UnknownProviderError',
  description: 'A routing names providers that are not defined (in SMS_PROVIDERS or by addProvider).',
  interfaces: [ErrorInterface],
  fields: (t) => ({ providers: t.exposeStringList('providers', { description: 'The names that are not defined.' }) }),
});

builder.objectType(ProviderInUseError, {
  name: 'ProviderInUseError',
  description: 'The routing in force names this provider; change the routing first or disable the provider.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ provider: t.exposeString('provider') }),
});

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
  RateLimitedError,
  ValidationError,
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

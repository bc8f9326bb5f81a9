import {
  errorCodes,
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

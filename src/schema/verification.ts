// Verification (one-time codes), like Twilio Verify: startVerification sends a code,
// checkVerification approves it once. Codes are never part of any type here; only the SMS
// itself (Message.body) carries one, as it must.
import { IdempotencyConflictError, InvalidPhoneNumberError, ValidationError, VerificationBlockedError, VerificationFailedError } from '../domain/errors.js';
import { normalizePhoneNumber } from '../domain/phone.js';
import { attemptsLeftOf } from '../domain/verification.js';
import { checkVerification } from '../services/verification-check.js';
import { startVerification } from '../services/verification-start.js';
import { accountNode } from './account-node.js';
import { builder } from './builder.js';
import { decodeId } from './global-id.js';
import { sendErrors } from './messages.js';
import { unwrap } from './unwrap.js';

export const VerificationStatusEnum = builder.enumType('VerificationStatus', {
  description: 'PENDING until approved by the right code, replaced by a newer start (CANCELED), expired, or out of attempts.',
  values: ['PENDING', 'APPROVED', 'CANCELED', 'EXPIRED', 'MAX_ATTEMPTS_REACHED'] as const,
});

export const Verification = accountNode('Verification', {
  description: 'A one-time-code verification. Only a keyed hash of the code is stored; the code is never shown.',
  fields: (t) => ({
    to: t.exposeString('to', { description: 'E.164.' }),
    status: t.expose('status', { type: VerificationStatusEnum }),
    codeLength: t.exposeInt('codeLength'),
    attempts: t.exposeInt('attempts', { description: 'Codes checked so far.' }),
    maxAttempts: t.exposeInt('maxAttempts'),
    attemptsLeft: t.int({ description: 'Checks left (0 once no longer PENDING).', resolve: (v) => attemptsLeftOf(v) }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    approvedAt: t.expose('approvedAt', { type: 'DateTime', nullable: true }),
    message: t.relation('message', { nullable: true, description: 'The SMS that carried the code (its delivery status).' }),
  }),
});

builder.queryFields((t) => ({
  verifications: t.prismaConnection({
    type: Verification,
    cursor: 'id',
    description: "The account's verifications, newest first (an audit: statuses and attempts, never codes).",
    defaultSize: 20,
    maxSize: 100,
    args: {
      to: t.arg.string({ required: false, description: 'A phone number in any format; matched after normalisation.' }),
      status: t.arg({ type: VerificationStatusEnum, required: false }),
    },
    resolve: (query, _root, args, ctx) => {
      const phone = args.to ? normalizePhoneNumber(args.to, ctx.config.defaultCountry as never) : undefined;
      return ctx.prisma.verification.findMany({
        ...query,
        where: {
          accountId: ctx.auth.accountId,
          ...(args.to && { to: phone?.ok ? phone.e164 : args.to.trim() }),
          ...(args.status && { status: args.status }),
        },
        orderBy: { id: 'desc' },
      });
    },
  }),
}));

const StartVerificationInput = builder.inputType('StartVerificationInput', {
  fields: (t) => ({
    to: t.string({ required: true, description: 'The number to verify, in any common format.' }),
    templateId: t.id({ required: false, description: 'An APPROVED OTP template with {{code}} (and optionally {{minutes}}); default: Herald\'s own text.' }),
    codeLength: t.int({ required: false, description: 'Digits in the code, 4 to 10. Default 6.' }),
    ttlSeconds: t.int({ required: false, description: 'How long the code is valid, 60 to 86400 s. Default 600 (10 minutes).' }),
    locale: t.string({ required: false, description: 'Language of Herald\'s own text: en or zh (zh-CN…). Default: zh for +86 numbers, else en.' }),
  }),
});

const CheckVerificationInput = builder.inputType('CheckVerificationInput', {
  fields: (t) => ({
    to: t.string({ required: true }),
    code: t.string({ required: true, description: 'The code the user received.' }),
  }),
});

// No idempotency key here: each start sends a new code.
const startErrors = [...sendErrors.filter((e) => e !== IdempotencyConflictError), VerificationBlockedError];

builder.mutationFields((t) => ({
  startVerification: t.prismaField({
    type: Verification,
    description:
      'Sends a one-time code by SMS and returns the PENDING verification. Replaces (CANCELs) an earlier pending one to the number. ' +
      'At most one code per minute and 5 per 10 minutes to a number (RateLimitedError), within the account\'s anti-pumping rules (VerificationBlockedError).',
    errors: { types: startErrors },
    args: { input: t.arg({ type: StartVerificationInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const templateId = input.templateId ? decodeId(input.templateId, 'Template', String(input.templateId)) : null;
      const result = unwrap(
        await startVerification(ctx.store, ctx.compliance, ctx.auth.accountId, { ...input, templateId }, {
          now: new Date(),
          maxBodyLength: ctx.config.maxBodyLength,
          defaultCountry: ctx.config.defaultCountry,
        }),
      );
      const verification = await ctx.prisma.verification.findUniqueOrThrow({ where: { id: result.verificationId } });
      const { message } = result;
      if (message.created) ctx.publishAndWake([{ id: message.id, accountId: ctx.auth.accountId, batchId: null, status: message.status }]);
      return verification;
    },
  }),
  checkVerification: t.prismaField({
    type: Verification,
    description: 'Checks a code against the latest verification to the number: APPROVED once, else VerificationFailedError. 5 checks per verification.',
    errors: { types: [ValidationError, InvalidPhoneNumberError, VerificationFailedError] },
    args: { input: t.arg({ type: CheckVerificationInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const { verificationId } = unwrap(await checkVerification(ctx.store, ctx.auth.accountId, input, { now: new Date(), defaultCountry: ctx.config.defaultCountry }));
      return ctx.prisma.verification.findUniqueOrThrow({ where: { id: verificationId } });
    },
  }),
}));

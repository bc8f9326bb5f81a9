// Retention (ADMIN only): how long the account keeps bodies, records, verifications and webhook
// logs. Rules in src/domain/retention.ts, the loop in src/services/retention.ts; docs/privacy.md.
import { ForbiddenError, ValidationError } from '../domain/errors.js';
import type { RetentionPeriods } from '../domain/retention.js';
import { setRetentionPolicy } from '../services/retention.js';
import { auditActorOf } from './audit-log.js';
import { builder } from './builder.js';
import { unwrap } from './unwrap.js';

const days = (what: string) => `${what} after this many days; null: kept for ever.`;

const RetentionPolicyRef = builder.objectRef<RetentionPeriods & { isDefault: boolean }>('RetentionPolicy').implement({
  description: 'How long the account keeps personal data (docs/privacy.md). A background pass applies it in small batches, about hourly.',
  fields: (t) => ({
    bodyDays: t.exposeInt('bodyDays', { nullable: true, description: days('Message and reply bodies (with template variables and sealed codes) are blanked; the rest of the record stays') }),
    recordDays: t.exposeInt('recordDays', { nullable: true, description: days("Messages with their timelines, and replies, are deleted (messageStats keeps counting them: a day's stats are rolled up first)") }),
    verificationDays: t.exposeInt('verificationDays', { nullable: true, description: days('Verifications and the sealed codes of their messages are deleted') }),
    webhookLogDays: t.exposeInt('webhookLogDays', { nullable: true, description: days('Finished outgoing-webhook deliveries and their attempts are deleted') }),
    isDefault: t.exposeBoolean('isDefault', { description: 'True while the account has never set a policy: these are the defaults (90, 395, 30, 30).' }),
  }),
});

const RetentionPolicyInput = builder.inputType('RetentionPolicyInput', {
  description: 'Each a whole number of days from 1 to 3650, or null to keep for ever; a field left out keeps its value. bodyDays must not exceed recordDays, nor webhookLogDays bodyDays (webhook payloads carry reply bodies).',
  fields: (t) => ({
    bodyDays: t.int({ required: false }),
    recordDays: t.int({ required: false }),
    verificationDays: t.int({ required: false }),
    webhookLogDays: t.int({ required: false }),
  }),
});

builder.queryField('retentionPolicy', (t) =>
  t.field({
    type: RetentionPolicyRef,
    description: "ADMIN only. The account's retention periods.",
    authScopes: { admin: true },
    resolve: (_root, _args, ctx) => ctx.store.retention.policy(ctx.auth.accountId),
  }),
);

builder.mutationField('setRetentionPolicy', (t) =>
  t.field({
    type: RetentionPolicyRef,
    description: "ADMIN only. Changes the account's retention periods. Zero, negative or fractional days are a ValidationError naming the field; nothing is changed then.",
    authScopes: { admin: true },
    errors: { types: [ValidationError, ForbiddenError] },
    args: { input: t.arg({ type: RetentionPolicyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => unwrap(await setRetentionPolicy(ctx.store.retention, ctx.auth.accountId, { ...input }, await auditActorOf(ctx))),
  }),
);

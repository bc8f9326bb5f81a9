// eraseRecipientData (ADMIN only): a person's data erased from the account on request; the rules
// in src/services/erasure.ts, docs/privacy.md.
import { ForbiddenError, InvalidPhoneNumberError } from '../domain/errors.js';
import { eraseRecipientData, type ErasureReport } from '../services/erasure.js';
import { auditActorOf } from './audit-log.js';
import { builder } from './builder.js';
import { unwrap } from './unwrap.js';

const ErasureReportRef = builder.objectRef<ErasureReport>('ErasureReport').implement({
  description: 'What an erasure did, by kind (docs/privacy.md, "Erasure").',
  fields: (t) => ({
    phone: t.exposeString('phone', { description: 'The number erased, masked.' }),
    messages: t.exposeInt('messages', { description: 'Messages to it: number replaced by one of the same country, body and variables blanked; status, timeline and cost kept.' }),
    canceled: t.exposeInt('canceled', { description: 'Of those, queued or scheduled ones canceled first.' }),
    replies: t.exposeInt('replies', { description: 'Replies from it, deleted (conversations with it are gone with them).' }),
    verifications: t.exposeInt('verifications', { description: 'Verifications to it, deleted.' }),
    webhookDeliveries: t.exposeInt('webhookDeliveries', { description: 'Outgoing-webhook deliveries whose payload named it, deleted with their attempts.' }),
    batches: t.exposeInt('batches', { description: 'Batches whose refused recipients quoted it, the quote removed.' }),
    pendingReports: t.exposeInt('pendingReports', { description: 'Provider reports not yet matched to a message that named it, deleted.' }),
    optOutKept: t.exposeBoolean('optOutKept', { description: 'An opt-out of the number is kept, as a keyed hash: a STOP stays honoured.' }),
  }),
});

builder.mutationField('eraseRecipientData', (t) =>
  t.field({
    type: ErasureReportRef,
    description: "ADMIN only. Erases a recipient's data from this account (messages to and replies from the number, verifications, webhook deliveries), keeping an opt-out as a keyed hash; recorded in the audit log with the number masked. An invalid number is INVALID_PHONE_NUMBER, nothing erased.",
    authScopes: { admin: true },
    errors: { types: [InvalidPhoneNumberError, ForbiddenError] },
    args: { phone: t.arg.string({ required: true, description: 'In E.164 or, with DEFAULT_COUNTRY, national form.' }) },
    resolve: async (_root, args, ctx) =>
      unwrap(await eraseRecipientData({ prisma: ctx.prisma, secrets: ctx.store.secrets }, ctx.auth.accountId, args.phone, { defaultCountry: ctx.config.defaultCountry, audit: await auditActorOf(ctx) })),
  }),
);

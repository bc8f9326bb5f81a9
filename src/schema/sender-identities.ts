// The numbers and sender ids an account sends from (ADMIN only): inbound messages are routed
// by them.
import { ForbiddenError, NotFoundError, ValidationError } from '../domain/errors.js';
import { addSenderIdentity, removeSenderIdentity } from '../services/sender-identities.js';
import { accountNode } from './account-node.js';
import { builder, definedProviders } from './builder.js';
import { decodeId } from './global-id.js';
import { unwrap } from './unwrap.js';
import { auditActorOf } from './audit-log.js';

const SenderIdentityKindEnum = builder.enumType('SenderIdentityKind', {
  description: 'NUMBER: a phone number in E.164. ALPHANUMERIC: a sender id such as HERALD (cannot receive replies).',
  values: ['NUMBER', 'ALPHANUMERIC'] as const,
});

export const SenderIdentity = accountNode('SenderIdentity', {
  description: 'A number or alphanumeric sender id this account sends from. A value belongs to one account only.',
  fields: (t) => ({
    value: t.exposeString('value', { description: 'E.164 number (+14155550100) or sender id (HERALD).' }),
    kind: t.field({ type: SenderIdentityKindEnum, resolve: (i) => (i.kind === 'NUMBER' ? 'NUMBER' : 'ALPHANUMERIC') }),
    provider: t.exposeString('provider', { nullable: true, description: 'The provider it is provisioned on; null = any.' }),
    isDefault: t.exposeBoolean('isDefault'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  senderIdentities: t.prismaField({
    type: [SenderIdentity],
    description: "ADMIN only. The account's sender identities, oldest first.",
    authScopes: { admin: true },
    resolve: (query, _root, _args, ctx) =>
      ctx.prisma.senderIdentity.findMany({ ...query, where: { accountId: ctx.auth.accountId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }),
  }),
}));

builder.mutationFields((t) => ({
  addSenderIdentity: t.prismaField({
    type: SenderIdentity,
    description:
      'ADMIN only. Adds a number (normalised to E.164) or an alphanumeric sender id (3–11 letters, digits or spaces, one letter at least). ' +
      'Adding one the account has returns it, updated. A value another account has is a ValidationError on `value`.',
    authScopes: { admin: true },
    errors: { types: [ValidationError, ForbiddenError] },
    args: {
      value: t.arg.string({ required: true }),
      provider: t.arg.string({ required: false, description: 'A configured provider name; omitted = any provider.' }),
      isDefault: t.arg.boolean({ required: false, description: 'Make it the default (the previous default stops being one).' }),
    },
    resolve: async (query, _root, args, ctx) => {
      const { id } = unwrap(
        await addSenderIdentity(ctx.prisma, ctx.auth.accountId, args, { defaultCountry: ctx.config.defaultCountry, providers: definedProviders(ctx) }, await auditActorOf(ctx)),
      );
      // No `...query`: a selection of only __typename would make it an empty (invalid) select.
      return ctx.prisma.senderIdentity.findUniqueOrThrow({ where: { id } });
    },
  }),
  removeSenderIdentity: t.field({
    type: 'ID',
    description: 'ADMIN only. Removes a sender identity; returns its id. Messages and replies already stored keep their numbers.',
    authScopes: { admin: true },
    errors: { types: [NotFoundError, ForbiddenError] },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const id = unwrap(decodeId(args.id, 'SenderIdentity'));
      unwrap(await removeSenderIdentity(ctx.prisma, ctx.auth.accountId, id, await auditActorOf(ctx)));
      return String(args.id);
    },
  }),
}));

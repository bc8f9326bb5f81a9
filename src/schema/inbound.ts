// Replies from handsets: the InboundMessage type, its list, and the simulator's "make a
// handset reply" mutation. Conversations (both directions) are in inbound-conversation.ts.
import { keywordActions, type KeywordAction } from '../domain/keywords.js';
import { ForbiddenError, InvalidPhoneNumberError, ValidationError } from '../domain/errors.js';
import { normalizePhoneNumber } from '../domain/phone.js';
import { simulateInboundMessage } from '../services/inbound-simulation.js';
import { accountNode } from './account-node.js';
import { builder } from './builder.js';
import { unwrap } from './unwrap.js';
import { auditActorOf } from './audit-log.js';

export const MessageDirectionEnum = builder.enumType('MessageDirection', {
  description: 'OUTBOUND: sent by this account. INBOUND: received from a handset.',
  values: ['OUTBOUND', 'INBOUND'] as const,
});

const InboundKeywordEnum = builder.enumType('InboundKeyword', {
  description: 'STOP opted the sender out, START opted it in again, HELP asked for the help text.',
  values: keywordActions,
});

const isKeyword = (value: string | null): value is KeywordAction => (keywordActions as readonly (string | null)[]).includes(value);

export const InboundMessage = accountNode('InboundMessage', {
  description: 'A message received from a handset (a reply, a STOP, …) on one of the account\'s numbers.',
  // `from`, `provider` and `providerMessageId` are always set, yet nullable as on Message: a
  // conversation selects the same field on both, and GraphQL refuses one field name with two
  // nullabilities in one selection ("Fields conflict"), as docs/api.md's `data` rule avoids too.
  fields: (t) => ({
    from: t.exposeString('from', { nullable: true, description: 'The sender, E.164 when it is a phone number (always set).' }),
    to: t.exposeString('to', { description: "The account's number (sender identity) it was sent to." }),
    body: t.exposeString('body', { description: '"" once retention blanked it (see redactedAt).' }),
    redactedAt: t.expose('redactedAt', { type: 'DateTime', nullable: true, description: "When the account's retention blanked the body; null while kept." }),
    receivedAt: t.expose('receivedAt', { type: 'DateTime', description: 'When the provider received it (its clock), else when Herald did.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When Herald stored it.' }),
    provider: t.exposeString('provider', { nullable: true, description: 'The provider that received it (always set).' }),
    providerMessageId: t.exposeString('providerMessageId', {
      nullable: true,
      description: "The provider's id for it, or `sha256:<body hash>:<index>` when the provider sent none (always set).",
    }),
    inReplyTo: t.relation('inReplyTo', {
      nullable: true,
      description: 'The last message this account had sent to `from` when this arrived.',
    }),
    keyword: t.field({
      type: InboundKeywordEnum,
      nullable: true,
      description: 'The keyword action taken, when the body was one.',
      resolve: (m) => (isKeyword(m.keyword) ? m.keyword : null),
    }),
    direction: t.field({ type: MessageDirectionEnum, description: 'Always INBOUND.', resolve: () => 'INBOUND' as const }),
  }),
});

builder.queryFields((t) => ({
  inboundMessages: t.prismaConnection(
    {
      type: InboundMessage,
      cursor: 'id',
      description: "Messages received on the account's numbers, newest first.",
      defaultSize: 20,
      maxSize: 100,
      args: { from: t.arg.string({ required: false, description: 'Only from this number (any format; matched after normalisation).' }) },
      resolve: (query, _root, args, ctx) => {
        const phone = args.from ? normalizePhoneNumber(args.from, ctx.config.defaultCountry as never) : undefined;
        const from = phone ? (phone.ok ? phone.e164 : args.from!.trim()) : undefined;
        return ctx.prisma.inboundMessage.findMany({ ...query, where: { accountId: ctx.auth.accountId, ...(from && { from }) }, orderBy: { id: 'desc' } });
      },
    },
    { name: 'InboundMessageConnection' },
    { name: 'InboundMessageEdge' },
  ),
}));

builder.mutationFields((t) => ({
  simulateInboundMessage: t.prismaField({
    type: InboundMessage,
    description:
      'ADMIN only, and only while the simulator provider is enabled (SMS_PROVIDERS), else FORBIDDEN. ' +
      "Makes the simulator POST a signed reply from `from` to `to` (one of this account's numbers) through " +
      'the real inbound webhook, and returns it as stored. Keywords in `body` take effect as from a handset.',
    authScopes: { admin: true },
    errors: { types: [ForbiddenError, ValidationError, InvalidPhoneNumberError] },
    args: {
      from: t.arg.string({ required: true, description: 'The handset number replying.' }),
      to: t.arg.string({ required: true, description: "One of this account's sender identity numbers." }),
      body: t.arg.string({ required: true }),
    },
    resolve: async (query, _root, args, ctx) => {
      const { id } = unwrap(
        await simulateInboundMessage(ctx.prisma, ctx.providers, ctx.auth.accountId, args, {
          defaultCountry: ctx.config.defaultCountry,
          maxBodyLength: ctx.config.maxBodyLength,
        }, await auditActorOf(ctx)),
      );
      return ctx.prisma.inboundMessage.findUniqueOrThrow({ where: { id } });
    },
  }),
}));

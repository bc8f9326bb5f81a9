import type { Prisma } from '../generated/prisma/client.js';
import {
  ForbiddenError,
  IdempotencyConflictError,
  InvalidPhoneNumberError,
  NotCancelableError,
  NotFoundError,
  RateLimitedError,
  RecipientOptedOutError,
  SensitiveContentError,
  TemplateNotApprovedError,
  TemplateVariablesMismatchError,
  ValidationError,
} from '../domain/errors.js';
import { normalizePhoneNumber } from '../domain/phone.js';
import { BudgetExceededError } from '../domain/budgets.js';
import { cancelMessage, sendMessage } from '../services/messages.js';
import { accountNode } from './account-node.js';
import { builder } from './builder.js';
import { TemplateCategoryEnum } from './templates.js';
import { decodeId, NO_ROW_ID } from './global-id.js';
import { checkTokenSend } from './token-scope.js';
import { unwrap } from './unwrap.js';

export const MessageStatusEnum = builder.enumType('MessageStatus', {
  description: 'SCHEDULED < QUEUED < SENDING < SENT < a final status. SENT means accepted by the provider or carrier.',
  values: ['SCHEDULED', 'QUEUED', 'SENDING', 'SENT', 'DELIVERED', 'UNDELIVERED', 'EXPIRED', 'REJECTED', 'FAILED', 'CANCELED'] as const,
});

export const EncodingEnum = builder.enumType('Encoding', {
  description: 'GSM7: 160 characters per single message, 153 per segment. UCS2: 70 and 67.',
  values: ['GSM7', 'UCS2'] as const,
});

export const MessageEvent = builder.prismaObject('MessageEvent', {
  description: 'One step of a message\'s timeline.',
  fields: (t) => ({
    status: t.expose('status', { type: MessageStatusEnum }),
    at: t.expose('at', { type: 'DateTime' }),
    source: t.exposeString('source', { description: 'API, DISPATCHER or PROVIDER (webhook or poll).' }),
    provider: t.exposeString('provider', { nullable: true }),
    rawStatus: t.exposeString('rawStatus', { nullable: true, description: "The provider's own status word, verbatim." }),
    errorCode: t.exposeString('errorCode', { nullable: true }),
    applied: t.exposeBoolean('applied', { description: 'False for a report recorded without moving the status (duplicate, late, out of order).' }),
  }),
});

export const Message = accountNode('Message', {
  fields: (t) => ({
    to: t.exposeString('to', { description: 'E.164, normalised (+8613800138000).' }),
    from: t.exposeString('from', { nullable: true }),
    body: t.exposeString('body', { description: 'The final text sent; "" once retention blanked it (see redactedAt).' }),
    redactedAt: t.expose('redactedAt', { type: 'DateTime', nullable: true, description: "When the account's retention blanked the body and variables (docs/privacy.md); null while kept." }),
    encoding: t.expose('encoding', { type: EncodingEnum }),
    segments: t.exposeInt('segments'),
    status: t.expose('status', { type: MessageStatusEnum }),
    errorCode: t.exposeString('errorCode', { nullable: true }),
    errorMessage: t.exposeString('errorMessage', { nullable: true }),
    provider: t.exposeString('provider', { nullable: true }),
    providerMessageId: t.exposeString('providerMessageId', { nullable: true }),
    variables: t.expose('variables', { type: 'JSON', nullable: true }),
    batchId: t.exposeID('batchId', { nullable: true }),
    idempotencyKey: t.exposeString('idempotencyKey', { nullable: true }),
    metadata: t.expose('metadata', { type: 'JSON', nullable: true }),
    scheduledAt: t.expose('scheduledAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    sentAt: t.expose('sentAt', { type: 'DateTime', nullable: true }),
    deliveredAt: t.expose('deliveredAt', { type: 'DateTime', nullable: true }),
    statusSynthetic: t.exposeBoolean('statusSynthetic', {
      description: 'True when Herald set the final status itself (EXPIRED: no delivery report before the deadline); a later real report may still correct it.',
    }),
    template: t.relation('template', { nullable: true, description: 'The template it was sent with (even if since deleted).' }),
    templateVersion: t.relation('templateVersion', { nullable: true, description: 'The exact template version used.' }),
    category: t.expose('category', { type: TemplateCategoryEnum, nullable: true }),
    events: t.relation('events', { description: 'Oldest first.', query: { orderBy: { id: 'asc' } } }),
  }),
});

const MessageFilter = builder.inputType('MessageFilter', {
  fields: (t) => ({
    status: t.field({ type: [MessageStatusEnum], required: false }),
    to: t.string({ required: false, description: 'A phone number in any format; matched after normalisation.' }),
    batchId: t.id({ required: false }),
    templateId: t.id({ required: false }),
    createdAfter: t.field({ type: 'DateTime', required: false }),
    createdBefore: t.field({ type: 'DateTime', required: false }),
    search: t.string({ required: false, description: 'Case-insensitive substring of the body.' }),
    provider: t.string({ required: false, description: 'The provider that took it (its configured name, exact).' }),
    changedAfter: t.field({
      type: 'DateTime',
      required: false,
      description: 'Only messages whose status changed (an applied event) after this time: what a client missed while disconnected.',
    }),
  }),
});

type MessageFilterShape = typeof MessageFilter.$inferInput;

function messageWhere(accountId: string, filter: MessageFilterShape | null | undefined, defaultCountry?: string): Prisma.MessageWhereInput {
  const where: Prisma.MessageWhereInput = { accountId };
  if (!filter) return where;
  if (filter.status?.length) where.status = { in: filter.status };
  if (filter.to) {
    const phone = normalizePhoneNumber(filter.to, defaultCountry as never);
    where.to = phone.ok ? phone.e164 : filter.to.trim();
  }
  if (filter.batchId) where.batchId = decodeId(filter.batchId, 'Batch', NO_ROW_ID);
  if (filter.templateId) where.templateId = decodeId(filter.templateId, 'Template', NO_ROW_ID);
  if (filter.createdAfter || filter.createdBefore) {
    where.createdAt = { ...(filter.createdAfter && { gte: filter.createdAfter }), ...(filter.createdBefore && { lt: filter.createdBefore }) };
  }
  if (filter.search) where.body = { contains: filter.search, mode: 'insensitive' };
  if (filter.provider) where.provider = filter.provider;
  // Through the events (indexed by time), not Message.updatedAt: every status change writes one.
  if (filter.changedAfter) where.events = { some: { at: { gt: filter.changedAfter }, applied: true } };
  return where;
}

builder.queryFields((t) => ({
  message: t.prismaField({
    type: Message,
    nullable: true,
    description: "One of the account's messages, by id (global or raw).",
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args, ctx) => {
      const id = decodeId(args.id, 'Message', null);
      return id ? ctx.prisma.message.findFirst({ ...query, where: { id, accountId: ctx.auth.accountId } }) : null;
    },
  }),
  messages: t.prismaConnection({
    type: Message,
    cursor: 'id',
    description: "The account's messages, newest first.",
    defaultSize: 20,
    maxSize: 100,
    args: { filter: t.arg({ type: MessageFilter, required: false }) },
    resolve: (query, _root, args, ctx) =>
      ctx.prisma.message.findMany({
        ...query,
        where: messageWhere(ctx.auth.accountId, args.filter, ctx.config.defaultCountry),
        orderBy: { id: 'desc' },
      }),
  }),
}));

const SendMessageInput = builder.inputType('SendMessageInput', {
  fields: (t) => ({
    to: t.string({ required: true, description: 'Recipient in any common format; stored as E.164.' }),
    body: t.string({ required: false, description: 'Text to send. Give exactly one of body or templateId.' }),
    templateId: t.id({ required: false }),
    variables: t.field({ type: 'JSON', required: false }),
    from: t.string({ required: false, description: 'Sender number or alphanumeric sender id.' }),
    scheduledAt: t.field({ type: 'DateTime', required: false, description: 'Send later (up to 35 days ahead).' }),
    idempotencyKey: t.string({
      required: false,
      description: 'Retries with the same key and input within 24 h return the first result and send nothing new.',
    }),
    metadata: t.field({ type: 'JSON', required: false, description: 'Your own data, returned with the message.' }),
  }),
});

/** Every way a send can be refused, as union members of sendMessage's result. */
export const sendErrors = [
  ValidationError,
  InvalidPhoneNumberError,
  IdempotencyConflictError,
  NotFoundError,
  TemplateNotApprovedError,
  TemplateVariablesMismatchError,
  SensitiveContentError,
  RecipientOptedOutError,
  RateLimitedError,
  BudgetExceededError,
];

builder.mutationFields((t) => ({
  sendMessage: t.field({
    type: Message,
    description: 'Accepts one message. It is stored durably before this returns.',
    // ForbiddenError: an access token sending without a template it grants (schema/token-scope.ts).
    errors: { types: [...sendErrors, ForbiddenError] },
    args: { input: t.arg({ type: SendMessageInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const templateId = input.templateId ? decodeId(input.templateId, 'Template', String(input.templateId)) : input.templateId;
      const refused = await checkTokenSend(ctx, input.body == null ? templateId : null);
      if (refused) throw refused;
      const result = unwrap(
        await sendMessage(ctx.store, ctx.compliance, ctx.auth.accountId, { ...input, templateId }, {
          maxBodyLength: ctx.config.maxBodyLength,
          defaultCountry: ctx.config.defaultCountry,
          now: new Date(),
          // A token may then watch what it sent (schema/token-scope.ts mayReadMessage).
          ...(ctx.auth.token && { accessTokenId: ctx.auth.token.tokenId }),
        }),
      );
      // Read before waking the dispatcher, so the answer shows the message as accepted (QUEUED).
      const message = result.row ?? (await ctx.prisma.message.findUniqueOrThrow({ where: { id: result.id } }));
      if (result.created) ctx.publishAndWake([{ id: result.id, accountId: ctx.auth.accountId, batchId: null, status: result.status }]);
      return message;
    },
  }),
  cancelMessage: t.field({
    type: Message,
    description: 'Cancels a SCHEDULED or QUEUED message; NOT_CANCELABLE once it is being sent.',
    errors: { types: [NotFoundError, NotCancelableError] },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const id = unwrap(decodeId(args.id, 'Message'));
      ctx.publishAndWake([unwrap(await cancelMessage(ctx.store, ctx.auth.accountId, id))]);
      return ctx.prisma.message.findUniqueOrThrow({ where: { id } });
    },
  }),
}));

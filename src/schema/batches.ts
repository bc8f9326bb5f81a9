import { ForbiddenError, IdempotencyConflictError, NotFoundError, TemplateNotApprovedError, ValidationError } from '../domain/errors.js';
import { BudgetExceededError } from '../domain/budgets.js';
import { formatMicros, type Money } from '../domain/money.js';
import { sendMessages, type RecipientRejection as Rejection } from '../services/bulk.js';
import { estimateTotal } from '../services/cost-estimate.js';
import { accountNode } from './account-node.js';
import { builder } from './builder.js';
import { ErrorCodeEnum } from './errors.js';
import { decodeId } from './global-id.js';
import { MoneyRef } from './message-routing.js';
import { Message, MessageStatusEnum } from './messages.js';
import { unwrap } from './unwrap.js';

const RecipientRejection = builder.objectRef<Rejection>('RecipientRejection').implement({
  description: 'A recipient of a sendMessages call that was refused, and why. The others were accepted.',
  fields: (t) => ({
    index: t.exposeInt('index', { description: 'Position in the input recipients list (from 0).' }),
    to: t.exposeString('to', { description: 'The number as given.' }),
    code: t.field({ type: ErrorCodeEnum, resolve: (r) => r.code as (typeof ErrorCodeEnum)['$inferType'] }),
    message: t.exposeString('message'),
  }),
});

const StatusCount = builder.objectRef<{ status: string; count: number }>('StatusCount').implement({
  fields: (t) => ({
    status: t.field({ type: MessageStatusEnum, resolve: (c) => c.status as (typeof MessageStatusEnum)['$inferType'] }),
    count: t.exposeInt('count'),
  }),
});

export const Batch = accountNode('Batch', {
  description: 'The messages of one sendMessages call.',
  fields: (t) => ({
    total: t.exposeInt('total', { description: 'Recipients given.' }),
    acceptedCount: t.exposeInt('accepted', { description: 'Messages created.' }),
    rejectedCount: t.exposeInt('rejected', { description: 'Recipients refused.' }),
    idempotencyKey: t.exposeString('idempotencyKey', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    rejected: t.field({ type: [RecipientRejection], resolve: (b) => b.rejections as unknown as Rejection[] }),
    statusCounts: t.field({
      type: [StatusCount],
      description: "How many of the batch's messages are in each status now.",
      resolve: async (batch, _args, ctx) => {
        const groups = await ctx.prisma.message.groupBy({ by: ['status'], where: { accountId: batch.accountId, batchId: batch.id }, _count: { _all: true } });
        return groups.map((g) => ({ status: g.status, count: g._count._all })).sort((a, b) => a.status.localeCompare(b.status));
      },
    }),
  }),
});

interface SendMessagesPayload {
  batchId: string;
  rejected: Rejection[];
  estimatedCost: Money[];
}

const SendMessagesSuccess = builder.objectRef<SendMessagesPayload>('SendMessagesSuccess').implement({
  description: 'Partial success is explicit: `accepted` were stored durably, `rejected` were refused.',
  fields: (t) => ({
    batchId: t.id({ resolve: (p) => p.batchId, description: 'Filter with messages(filter: {batchId}) or messageEvents(filter: {batchId}).' }),
    data: t.prismaField({ type: Batch, resolve: (query, p, _args, ctx) => ctx.prisma.batch.findUniqueOrThrow({ ...query, where: { id: p.batchId } }) }),
    accepted: t.prismaField({
      type: [Message],
      resolve: (query, p, _args, ctx) => ctx.prisma.message.findMany({ ...query, where: { batchId: p.batchId, accountId: ctx.auth.accountId }, orderBy: { id: 'asc' } }),
    }),
    rejected: t.field({ type: [RecipientRejection], resolve: (p) => p.rejected }),
    estimatedCost: t.field({
      type: [MoneyRef],
      description:
        "What the accepted messages should cost, one total per currency: each priced with the provider its route would choose now (the strategy's choice without exploration; a WEIGHTED route's first weighted provider), from the account's prices. Messages without a known price are not counted; empty when none has one (and for an idempotent replay). Each message records its own cost when a provider takes it.",
      resolve: (p) => p.estimatedCost.map((m) => ({ amount: formatMicros(m.micros), currency: m.currency })),
    }),
  }),
});

const BulkRecipientInput = builder.inputType('BulkRecipientInput', {
  fields: (t) => ({
    to: t.string({ required: true }),
    variables: t.field({ type: 'JSON', required: false, description: "This recipient's template variables." }),
  }),
});

const SendMessagesInput = builder.inputType('SendMessagesInput', {
  fields: (t) => ({
    recipients: t.field({ type: [BulkRecipientInput], required: true, description: 'Up to 10 000.' }),
    body: t.string({ required: false }),
    templateId: t.id({ required: false }),
    from: t.string({ required: false }),
    scheduledAt: t.field({ type: 'DateTime', required: false }),
    idempotencyKey: t.string({ required: false, description: 'A retry with the same key and input returns the first batch.' }),
    metadata: t.field({ type: 'JSON', required: false }),
  }),
});

builder.queryField('batch', (t) =>
  t.prismaField({
    type: Batch,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args, ctx) => {
      const id = decodeId(args.id, 'Batch', null);
      return id ? ctx.prisma.batch.findFirst({ ...query, where: { id, accountId: ctx.auth.accountId } }) : null;
    },
  }),
);

builder.mutationField('sendMessages', (t) =>
  t.field({
    type: SendMessagesSuccess,
    description: 'Sends one body or template to up to 10 000 recipients. Each recipient is checked on its own.',
    errors: { types: [ValidationError, IdempotencyConflictError, NotFoundError, TemplateNotApprovedError, ForbiddenError, BudgetExceededError], directResult: true },
    args: { input: t.arg({ type: SendMessagesInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const templateId = input.templateId ? decodeId(input.templateId, 'Template', String(input.templateId)) : input.templateId;
      const result = unwrap(await sendMessages(ctx.store, ctx.compliance, ctx.auth.accountId, { ...input, templateId }, {
        maxBodyLength: ctx.config.maxBodyLength,
        defaultCountry: ctx.config.defaultCountry,
        now: new Date(),
      }));
      ctx.publishAndWake(result.changes);
      const estimatedCost = result.estimatedCost ?? await estimateTotal({ routing: ctx.routing, routeFacts: ctx.routeFacts, prices: ctx.store.prices }, ctx.auth.accountId, result.accepted);
      return { batchId: result.batchId, rejected: result.rejected, estimatedCost };
    },
  }),
);

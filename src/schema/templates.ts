import {
  ForbiddenError,
  InvalidTemplateStateError,
  NotFoundError,
  SensitiveContentError,
  ValidationError,
} from '../domain/errors.js';
import { readMappings, setTemplateProviderMapping } from '../services/template-mappings.js';
import { createTemplate, deleteTemplate, reviewTemplate, submitTemplate, updateTemplate } from '../services/templates.js';
import { accountNode } from './account-node.js';
import { builder, definedProviders } from './builder.js';
import { unwrap } from './unwrap.js';
import { auditActorOf } from './audit-log.js';
import type { Context } from './context.js';
import { decodeId } from './global-id.js';

export const TemplateStatusEnum = builder.enumType('TemplateStatus', {
  description: 'DRAFT → PENDING_REVIEW (submitTemplate) → APPROVED or REJECTED (reviewTemplate). Only APPROVED templates can be sent.',
  values: ['DRAFT', 'PENDING_REVIEW', 'APPROVED', 'REJECTED'] as const,
});

export const TemplateCategoryEnum = builder.enumType('TemplateCategory', {
  description: 'What a template is for; frequency limits and opt-out rules depend on it.',
  values: ['OTP', 'NOTIFICATION', 'MARKETING'] as const,
});

const ProviderTemplateMapping = builder.objectRef<{ provider: string; code: string; params: string[] | null }>('ProviderTemplateMapping').implement({
  fields: (t) => ({
    provider: t.exposeString('provider'),
    code: t.exposeString('code', { description: "The provider's template code (Aliyun TemplateCode, Tencent TemplateId)." }),
    params: t.exposeStringList('params', { nullable: true, description: 'Variable names in the order of the provider\'s positional parameters.' }),
  }),
});

export const TemplateVersion = builder.prismaObject('TemplateVersion', {
  description: 'One version of a template. Editing an approved template makes a new version; messages keep theirs.',
  fields: (t) => ({
    version: t.exposeInt('version'),
    body: t.exposeString('body'),
    variables: t.exposeStringList('variables'),
    status: t.expose('status', { type: TemplateStatusEnum }),
    rejectionReason: t.exposeString('rejectionReason', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    submittedAt: t.expose('submittedAt', { type: 'DateTime', nullable: true }),
    reviewedAt: t.expose('reviewedAt', { type: 'DateTime', nullable: true }),
  }),
});

export const Template = accountNode('Template', {
  // node(id:) hides a deleted template as template(id:) does; message.template still shows it.
  where: { deletedAt: null },
  // The current version's fields are the template's own: always load it with the template.
  include: { currentVersion: true },
  fields: (t) => ({
    name: t.exposeString('name'),
    category: t.expose('category', { type: TemplateCategoryEnum }),
    status: t.field({ type: TemplateStatusEnum, resolve: (tpl) => tpl.currentVersion!.status }),
    version: t.int({ resolve: (tpl) => tpl.currentVersion!.version }),
    body: t.string({ resolve: (tpl) => tpl.currentVersion!.body }),
    variables: t.stringList({ description: 'The {{names}} in the body, in order of first use.', resolve: (tpl) => tpl.currentVersion!.variables }),
    rejectionReason: t.string({ nullable: true, resolve: (tpl) => tpl.currentVersion!.rejectionReason }),
    submittedAt: t.field({ type: 'DateTime', nullable: true, resolve: (tpl) => tpl.currentVersion!.submittedAt }),
    reviewedAt: t.field({ type: 'DateTime', nullable: true, resolve: (tpl) => tpl.currentVersion!.reviewedAt }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    deletedAt: t.expose('deletedAt', { type: 'DateTime', nullable: true }),
    providerTemplates: t.field({
      type: [ProviderTemplateMapping],
      description: "This template's codes at template-only providers (Aliyun, Tencent), set by setTemplateProviderMapping.",
      resolve: (tpl) => Object.entries(readMappings(tpl.providerTemplates)).map(([provider, m]) => ({ provider, code: m.code, params: m.params ?? null })),
    }),
    versions: t.relation('versions', { description: 'Newest first.', query: { orderBy: { version: 'desc' } } }),
  }),
});

builder.mutationFields((t) => ({
  setTemplateProviderMapping: t.field({
    type: Template,
    description:
      'ADMIN only. Maps this template to its counterpart at a template-only provider (Aliyun TemplateCode, Tencent TemplateId), ' +
      "with the variables in the provider's parameter order where it takes them by position. `code: null` removes the mapping.",
    authScopes: { admin: true },
    errors: { types: [ValidationError, NotFoundError, ForbiddenError] },
    args: {
      id: t.arg.id({ required: true }),
      provider: t.arg.string({ required: true }),
      code: t.arg.string({ required: false }),
      params: t.arg.stringList({ required: false }),
    },
    resolve: async (_root, args, ctx) => {
      const id = unwrap(decodeId(args.id, 'Template'));
      const input = { provider: args.provider, code: args.code ?? null, params: args.params };
      return loadTemplate(ctx, unwrap(await setTemplateProviderMapping(ctx.store, ctx.auth.accountId, id, input, { providers: definedProviders(ctx) }, await auditActorOf(ctx))).id);
    },
  }),
}));

builder.queryFields((t) => ({
  template: t.prismaField({
    type: Template,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args, ctx) => {
      const id = decodeId(args.id, 'Template', null);
      return id ? ctx.prisma.template.findFirst({ ...query, where: { id, accountId: ctx.auth.accountId, deletedAt: null } }) : null;
    },
  }),
  templates: t.prismaConnection({
    type: Template,
    cursor: 'id',
    description: "The account's templates, newest first (the review queue: `status: PENDING_REVIEW`).",
    maxSize: 100,
    args: { status: t.arg({ type: TemplateStatusEnum, required: false }) },
    resolve: (query, _root, args, ctx) =>
      ctx.prisma.template.findMany({
        ...query,
        where: { accountId: ctx.auth.accountId, deletedAt: null, ...(args.status && { currentVersion: { status: args.status } }) },
        orderBy: { id: 'desc' },
      }),
  }),
}));

const CreateTemplateInput = builder.inputType('CreateTemplateInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    body: t.string({ required: true, description: 'Text with {{variable}} placeholders.' }),
    category: t.field({ type: TemplateCategoryEnum, required: true }),
  }),
});

const UpdateTemplateInput = builder.inputType('UpdateTemplateInput', {
  fields: (t) => ({
    name: t.string({ required: false }),
    body: t.string({ required: false }),
    category: t.field({ type: TemplateCategoryEnum, required: false }),
  }),
});

const loadTemplate = (ctx: Context, id: string) => ctx.prisma.template.findUniqueOrThrow({ where: { id }, include: { currentVersion: true } });

const lifecycleErrors = [ValidationError, NotFoundError, InvalidTemplateStateError];

builder.mutationFields((t) => ({
  createTemplate: t.field({
    type: Template,
    description: 'Creates a DRAFT template.',
    errors: { types: [ValidationError] },
    args: { input: t.arg({ type: CreateTemplateInput, required: true }) },
    resolve: async (_root, { input }, ctx) =>
      loadTemplate(ctx, unwrap(await createTemplate(ctx.store, ctx.auth.accountId, input, { maxBodyLength: ctx.config.maxBodyLength }, await auditActorOf(ctx))).id),
  }),
  updateTemplate: t.field({
    type: Template,
    description: 'Edits a DRAFT in place; editing an APPROVED or REJECTED template makes a new DRAFT version.',
    errors: { types: lifecycleErrors },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateTemplateInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const id = unwrap(decodeId(args.id, 'Template'));
      return loadTemplate(ctx, unwrap(await updateTemplate(ctx.store, ctx.auth.accountId, id, args.input, { maxBodyLength: ctx.config.maxBodyLength }, await auditActorOf(ctx))).id);
    },
  }),
  submitTemplate: t.field({
    type: Template,
    description: 'DRAFT → PENDING_REVIEW. The body is screened for sensitive words first.',
    errors: { types: [...lifecycleErrors, SensitiveContentError] },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const id = unwrap(decodeId(args.id, 'Template'));
      const screen = (text: string) => ctx.compliance.screen(ctx.auth.accountId, text);
      return loadTemplate(ctx, unwrap(await submitTemplate(ctx.store, ctx.auth.accountId, id, screen, await auditActorOf(ctx))).id);
    },
  }),
  reviewTemplate: t.field({
    type: Template,
    description: 'ADMIN only. Approves a PENDING_REVIEW template, or rejects it with a reason.',
    authScopes: { admin: true },
    errors: { types: [...lifecycleErrors, ForbiddenError] },
    args: { id: t.arg.id({ required: true }), approve: t.arg.boolean({ required: true }), reason: t.arg.string({ required: false }) },
    resolve: async (_root, args, ctx) => {
      const id = unwrap(decodeId(args.id, 'Template'));
      const decision = { approve: args.approve, reason: args.reason, reviewerKeyId: ctx.auth.keyId };
      return loadTemplate(ctx, unwrap(await reviewTemplate(ctx.store, ctx.auth.accountId, id, decision, await auditActorOf(ctx))).id);
    },
  }),
  deleteTemplate: t.field({
    type: Template,
    description: 'Deletes a template; messages sent with it keep the version they used.',
    errors: { types: [NotFoundError] },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const id = unwrap(decodeId(args.id, 'Template'));
      return loadTemplate(ctx, unwrap(await deleteTemplate(ctx.store, ctx.auth.accountId, id, await auditActorOf(ctx))).id);
    },
  }),
}));

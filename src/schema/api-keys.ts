import { z } from 'zod';
import { ForbiddenError, NotFoundError, ValidationError } from '../domain/errors.js';
import { parseOrError } from '../domain/validation.js';
import { createApiKey, revokeApiKey, type CreatedApiKey } from '../services/api-keys.js';
import { accountNode } from './account-node.js';
import { builder } from './builder.js';
import { decodeId } from './global-id.js';
import { unwrap } from './unwrap.js';
import { auditActorOf } from './audit-log.js';

export const ApiKeyRoleEnum = builder.enumType('ApiKeyRole', {
  description: 'ADMIN manages keys, templates and compliance rules; SENDER sends and reads.',
  values: ['ADMIN', 'SENDER'] as const,
});

const Account = builder.prismaObject('Account', {
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

export const ApiKey = accountNode('ApiKey', {
  description: 'An API key. Its secret is shown once, at creation.',
  fields: (t) => ({
    name: t.exposeString('name'),
    role: t.expose('role', { type: ApiKeyRoleEnum }),
    prefix: t.exposeString('prefix', { description: 'The public part of the key, to recognise it in lists and logs.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

const CreatedApiKeyRef = builder.objectRef<CreatedApiKey>('CreatedApiKey').implement({
  fields: (t) => ({
    apiKey: t.field({ type: ApiKey, resolve: (k) => k }),
    secret: t.exposeString('secret', { description: 'The whole key. Store it now: it is never shown again.' }),
  }),
});

const Viewer = builder.objectRef<{ keyId: string; accountId: string }>('Viewer').implement({
  description: 'The calling API key and its account.',
  fields: (t) => ({
    apiKey: t.prismaField({
      type: ApiKey,
      resolve: (query, viewer, _args, ctx) => ctx.prisma.apiKey.findUniqueOrThrow({ ...query, where: { id: viewer.keyId } }),
    }),
    account: t.prismaField({
      type: Account,
      resolve: (query, viewer, _args, ctx) => ctx.prisma.account.findUniqueOrThrow({ ...query, where: { id: viewer.accountId } }),
    }),
  }),
});

builder.queryFields((t) => ({
  viewer: t.field({ type: Viewer, resolve: (_root, _args, ctx) => ctx.auth }),
  apiKeys: t.prismaField({
    type: [ApiKey],
    description: "The account's keys, newest first (revoked ones included, with revokedAt).",
    authScopes: { admin: true },
    resolve: (query, _root, _args, ctx) =>
      ctx.prisma.apiKey.findMany({ ...query, where: { accountId: ctx.auth.accountId }, orderBy: { id: 'desc' } }),
  }),
}));

const keyName = z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters');

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreatedApiKeyRef,
    description: 'ADMIN only. Creates a key in the caller\'s account; the secret is in the result, once.',
    authScopes: { admin: true },
    errors: { types: [ValidationError, ForbiddenError] },
    args: { name: t.arg.string({ required: true }), role: t.arg({ type: ApiKeyRoleEnum, required: true }) },
    resolve: async (_root, args, ctx) => {
      const name = unwrap(parseOrError(keyName, args.name, ['name']));
      return createApiKey(ctx.prisma, { accountId: ctx.auth.accountId, name, role: args.role }, await auditActorOf(ctx));
    },
  }),
  revokeApiKey: t.field({
    type: ApiKey,
    description: 'ADMIN only. Revokes a key of the caller\'s account, effective on its next request.',
    authScopes: { admin: true },
    errors: { types: [NotFoundError, ForbiddenError] },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const id = unwrap(decodeId(args.id, 'ApiKey'));
      return unwrap(await revokeApiKey(ctx.prisma, ctx.auth.accountId, id, ctx.pubsub, await auditActorOf(ctx)));
    },
  }),
}));

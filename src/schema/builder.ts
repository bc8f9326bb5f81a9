// The one Pothos builder. Plugin order matters: each plugin wraps the resolvers of the plugins
// after it, so the first one listed runs outermost.
// - errors first, so that it catches what every inner plugin and resolver throws, scope-auth's
//   refusals included, and turns the error classes a field lists into members of its result union;
// - scope-auth next, so that an unauthorized call stops before the prisma plugin loads anything;
// - prisma, then relay last: relay builds node and connection fields on top of the prisma refs.
//
// ADMIN-only fields say so in one way: `authScopes: { admin: true }`. A refused call gets the
// domain's ForbiddenError from `unauthorizedError` below (one message for every field). Where the
// field's result union lists ForbiddenError (every ADMIN mutation), the errors plugin makes it the
// union member {code: FORBIDDEN, message}; this is why errors comes before scope-auth (were it
// after, scope-auth would throw outside its reach; Pothos's author confirms this order for auth
// errors as union members in hayes/pothos issue 464). Queries have no union (their types are fixed
// by the API), so the error reaches the edge, where exposeExpectedError (expected-errors.ts) turns
// it into a GraphQL error with `extensions.code = "FORBIDDEN"` and the same message.
// Errors' `defaultTypes` would do the same for mutations but would also add ForbiddenError to the
// union of every mutation, ADMIN or not: a schema change for nothing.
import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import { ForbiddenError } from '../domain/errors.js';
import type PrismaTypes from '../generated/pothos-types.js';
import { getDatamodel } from '../generated/pothos-types.js';
import type { Context } from './context.js';

/** What a non-ADMIN key is told when it calls an ADMIN-only field (the same for queries and mutations). */
/** The names of the providers defined now (SMS_PROVIDERS and run-time ones, disabled included). */
export const definedProviders = (ctx: Context): string[] => ctx.providers.map((p) => p.name);

export const operatorOnlyMessage = (fieldName: string, account: string) =>
  `only an ADMIN key of the operator account ("${account}", OPERATOR_ACCOUNT) can use ${fieldName}: it changes the whole deployment`;

/** The calling key, as the change log records who made a change (store/configuration.ts). */
export const keyOf = (ctx: Context) => ({ accountId: ctx.auth.accountId, keyId: ctx.auth.keyId });

export const adminOnlyMessage = (fieldName: string) => `only an ADMIN key can use ${fieldName}`;

const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  AuthScopes: { admin: boolean; operator: boolean };
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    JSON: { Input: unknown; Output: unknown };
  };
}>({
  defaultFieldNullability: false,
  plugins: [ErrorsPlugin, ScopeAuthPlugin, PrismaPlugin, RelayPlugin],
  scopeAuth: {
    authScopes: (ctx) => ({
      // An access token is never ADMIN, whatever its key's role (schema/token-scope.ts also keeps
      // it to its own fields; this holds should a field be opened to tokens by mistake).
      admin: ctx.auth.role === 'ADMIN' && !ctx.auth.token,
      // Deployment-wide settings (providers, routing) are the operator's: an ADMIN key of the
      // account named by OPERATOR_ACCOUNT, never another tenant's.
      operator: async () => ctx.auth.role === 'ADMIN' && !ctx.auth.token && (await ctx.isOperatorAccount(ctx.auth.accountId)),
    }),
    unauthorizedError: (_parent, ctx, info, result) =>
      new ForbiddenError(JSON.stringify(result.failure).includes('"operator"') ? operatorOnlyMessage(info.fieldName, ctx.config.operatorAccount) : adminOnlyMessage(info.fieldName)),
  },
  errors: {
    // docs/api.md names: sendMessage → SendMessageResult = SendMessageSuccess { data } | errors.
    defaultResultOptions: { name: ({ fieldName }) => `${upperFirst(fieldName)}Success` },
    defaultUnionOptions: { name: ({ fieldName }) => `${upperFirst(fieldName)}Result` },
  },
  prisma: {
    client: (ctx) => ctx.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodesQueryOptions: false,
  },
});

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('JSON', JSONResolver);

builder.queryType({});
builder.mutationType({});

// Run-time configuration (the operator's ADMIN keys only): providers added, changed, disabled and
// removed, the routing set or reset, and the log of changes. The writes are services/
// configuration.ts'; every process applies them within a second (services/live-configuration.ts).
import { ForbiddenError, NotFoundError, ProviderInUseError, UnknownProviderError, ValidationError } from '../domain/errors.js';
import { credentialFields, PROVIDER_KINDS, splitSpec, type EffectiveProvider, type ProviderKind } from '../domain/provider-definitions.js';
import { addProvider, removeProvider, resetRouting, setRouting, updateProvider, type Applied } from '../services/configuration.js';
import type { ConfigurationState, RoutingInForce } from '../services/live-configuration.js';
import { builder, keyOf } from './builder.js';
import type { Context } from './context.js';
import { unwrap } from './unwrap.js';

const ProviderKindEnum = builder.enumType('ProviderKind', {
  description: 'The adapter a provider runs.',
  values: PROVIDER_KINDS.map((k) => k.toUpperCase()) as ['SIMULATOR', 'TWILIO', 'ALIYUN', 'TENCENT', 'SMPP'],
});

const ConfigurationSourceEnum = builder.enumType('ConfigurationSource', {
  description: 'ENVIRONMENT: SMS_PROVIDERS / SMS_ROUTES as the server started. RUNTIME: set through GraphQL, replacing the environment\'s.',
  values: ['ENVIRONMENT', 'RUNTIME'] as const,
});

const ProviderDefinitionRef = builder.objectRef<EffectiveProvider>('ProviderDefinition').implement({
  description: 'A provider as configured now. Its credentials are never readable: only which fields are set.',
  fields: (t) => ({
    name: t.string({ resolve: (p) => p.spec.name }),
    kind: t.field({ type: ProviderKindEnum, resolve: (p) => p.spec.kind.toUpperCase() as 'SIMULATOR' }),
    source: t.field({ type: ConfigurationSourceEnum, resolve: (p) => p.source }),
    enabled: t.boolean({ description: 'Whether routing may choose it. A disabled provider still takes its reports and status polls.', resolve: (p) => p.enabled }),
    settings: t.field({ type: 'JSON', description: "The kind's settings that are not secret (docs/providers.md, \"Run-time configuration\").", resolve: (p) => splitSpec(p.spec).settings }),
    credentialFields: t.stringList({ description: 'The secret fields this kind has (all set: a definition without them is refused). Their values are never returned.', resolve: (p) => credentialFields(p.spec.kind) }),
    updatedAt: t.field({ type: 'DateTime', nullable: true, description: 'When it was last changed at run time; null for the environment\'s.', resolve: (p) => p.updatedAt }),
  }),
});

const RoutingConfigurationRef = builder.objectRef<RoutingInForce>('RoutingConfiguration').implement({
  description: 'The routing in force: the document set with setRouting, else SMS_ROUTES.',
  fields: (t) => ({
    source: t.field({ type: ConfigurationSourceEnum, resolve: (r) => r.source }),
    document: t.field({ type: 'JSON', description: 'The SMS_ROUTES-shaped document (routes, providers limits, circuit).', resolve: (r) => r.document }),
    problem: t.string({ nullable: true, description: 'Why the routing set at run time is not in force (it names a provider no longer defined); null when it is.', resolve: (r) => r.problem }),
  }),
});

interface ConfigChangeRow {
  version: number;
  at: Date;
  keyId: string | null;
  keyName: string | null;
  subject: string;
  action: string;
  before: unknown;
  after: unknown;
}

const ConfigChangeRef = builder.objectRef<ConfigChangeRow>('ConfigChange').implement({
  description: 'One change of the run-time configuration: its version, who made it, what changed. Secrets are never recorded.',
  fields: (t) => ({
    version: t.exposeInt('version'),
    at: t.field({ type: 'DateTime', resolve: (c) => c.at }),
    keyId: t.exposeString('keyId', { nullable: true, description: 'The API key that made it.' }),
    keyName: t.exposeString('keyName', { nullable: true }),
    subject: t.exposeString('subject', { description: '"provider:NAME", "routes" or "price:ID".' }),
    action: t.exposeString('action', { description: 'ADD, UPDATE, ENABLE, DISABLE, REMOVE, SET, RESET (prices: SET, REMOVE, IMPORT).' }),
    before: t.field({ type: 'JSON', nullable: true, resolve: (c) => c.before ?? null }),
    after: t.field({ type: 'JSON', nullable: true, resolve: (c) => c.after ?? null }),
  }),
});

const ConfigurationRef = builder.objectRef<ConfigurationState>('Configuration').implement({
  description: 'Providers and routing as this Herald process has them in force.',
  fields: (t) => ({
    version: t.int({ description: 'The number of the last change of providers or routing applied (0: none yet; price changes share the sequence, so numbers may skip). Every process reaches the same version within about a second of a change.', resolve: (c) => c.version }),
    dispatchingVersion: t.int({
      nullable: true,
      description:
        'The version in force in the process of this instance that dispatches (routes and submits messages); null when this instance does not dispatch (DISPATCH=off). Lower than `version` for the moment a change takes to reach it.',
      resolve: (_c, _args, ctx) => ctx.dispatchingConfigurationVersion(),
    }),
    providers: t.field({ type: [ProviderDefinitionRef], description: 'In default order: SMS_PROVIDERS, then those added at run time by name.', resolve: (c) => c.providers }),
    routing: t.field({ type: RoutingConfigurationRef, resolve: (c) => c.routing }),
  }),
});

const AddProviderInput = builder.inputType('AddProviderInput', {
  fields: (t) => ({
    name: t.string({ required: true, description: 'Lower-case words (a-z, 0-9, -); used in routes, prices and callback paths (/webhooks/NAME/…).' }),
    kind: t.field({ type: ProviderKindEnum, required: true }),
    settings: t.field({ type: 'JSON', required: false, description: "The kind's settings (docs/providers.md, \"Run-time configuration\")." }),
    credentials: t.field({ type: 'JSON', required: false, description: "The kind's secrets: stored sealed, never readable back." }),
    enabled: t.boolean({ required: false, defaultValue: true }),
  }),
});

const UpdateProviderInput = builder.inputType('UpdateProviderInput', {
  fields: (t) => ({
    settings: t.field({ type: 'JSON', required: false, description: 'Replaces the settings as a whole; omitted: unchanged.' }),
    credentials: t.field({ type: 'JSON', required: false, description: 'Replaces the credentials as a whole; omitted: unchanged.' }),
    enabled: t.boolean({ required: false }),
  }),
});

/** After a change: this process applies it before answering, so the answer shows it in force. */
async function applied(ctx: Context, result: Applied): Promise<ConfigurationState> {
  if (ctx.configuration.current().version < result.version) await ctx.configuration.reload(true);
  return ctx.configuration.current();
}

builder.queryFields((t) => ({
  configuration: t.field({
    type: ConfigurationRef,
    description: "The operator's ADMIN keys only (OPERATOR_ACCOUNT). Providers and routing in force in the process answering.",
    authScopes: { operator: true },
    resolve: (_root, _args, ctx) => ctx.configuration.current(),
  }),
  configChanges: t.field({
    type: [ConfigChangeRef],
    description:
      'ADMIN only. The change log, newest first: the operator sees providers, routing and its own prices; another account\'s ADMIN its own prices. ' +
      '`before`: versions below it (paging).',
    authScopes: { admin: true },
    args: {
      first: t.arg.int({ required: false, defaultValue: 50 }),
      before: t.arg.int({ required: false }),
      subject: t.arg.string({ required: false, description: 'Only this subject ("routes", "provider:twilio"), or those starting with it when it ends in ":" ("price:").' }),
    },
    resolve: async (_root, args, ctx) => {
      const operator = await ctx.isOperatorAccount(ctx.auth.accountId);
      const own = { accountId: ctx.auth.accountId, subject: { startsWith: 'price:' } };
      const subject = args.subject ? (args.subject.endsWith(':') ? { startsWith: args.subject } : { equals: args.subject }) : undefined;
      return ctx.prisma.configChange.findMany({
        where: {
          AND: [
            operator ? { OR: [own, { NOT: { subject: { startsWith: 'price:' } } }] } : own,
            ...(subject ? [{ subject }] : []),
            ...(args.before != null ? [{ version: { lt: args.before } }] : []),
          ],
        },
        orderBy: { version: 'desc' },
        take: Math.min(Math.max(args.first ?? 50, 1), 500),
      });
    },
  }),
}));

builder.mutationFields((t) => ({
  addProvider: t.field({
    type: ConfigurationRef,
    description: "The operator's ADMIN keys only. Defines a provider; it takes traffic as soon as a route names it (or, without routes, at the end of the default order).",
    authScopes: { operator: true },
    errors: { types: [ForbiddenError, ValidationError] },
    args: { input: t.arg({ type: AddProviderInput, required: true }) },
    resolve: async (_root, { input }, ctx) =>
      applied(ctx, unwrap(await addProvider(ctx.configurationDeps, keyOf(ctx), { ...input, kind: input.kind.toLowerCase() as ProviderKind, enabled: input.enabled ?? true }))),
  }),
  updateProvider: t.field({
    type: ConfigurationRef,
    description: "The operator's ADMIN keys only. Changes a provider's settings, credentials or enabled state (SMS_PROVIDERS' too: the change replaces the environment's until removeProvider).",
    authScopes: { operator: true },
    errors: { types: [ForbiddenError, ValidationError, NotFoundError] },
    args: { name: t.arg.string({ required: true }), input: t.arg({ type: UpdateProviderInput, required: true }) },
    resolve: async (_root, { name, input }, ctx) =>
      applied(ctx, unwrap(await updateProvider(ctx.configurationDeps, keyOf(ctx), name, { settings: input.settings ?? undefined, credentials: input.credentials ?? undefined, enabled: input.enabled ?? undefined }))),
  }),
  removeProvider: t.field({
    type: ConfigurationRef,
    description: "The operator's ADMIN keys only. Removes a run-time definition: a provider from SMS_PROVIDERS gets its environment definition back; another is refused while the routing names it.",
    authScopes: { operator: true },
    errors: { types: [ForbiddenError, NotFoundError, ProviderInUseError, ValidationError] },
    args: { name: t.arg.string({ required: true }) },
    resolve: async (_root, { name }, ctx) => applied(ctx, unwrap(await removeProvider(ctx.configurationDeps, keyOf(ctx), name))),
  }),
  setRouting: t.field({
    type: ConfigurationRef,
    description: "The operator's ADMIN keys only. Replaces the routing (a document shaped like SMS_ROUTES) on every instance, until resetRouting.",
    authScopes: { operator: true },
    errors: { types: [ForbiddenError, ValidationError, UnknownProviderError] },
    args: { document: t.arg({ type: 'JSON', required: true }) },
    resolve: async (_root, { document }, ctx) => applied(ctx, unwrap(await setRouting(ctx.configurationDeps, keyOf(ctx), document))),
  }),
  resetRouting: t.field({
    type: ConfigurationRef,
    description: "The operator's ADMIN keys only. Drops the routing set at run time: SMS_ROUTES applies again.",
    authScopes: { operator: true },
    errors: { types: [ForbiddenError, NotFoundError] },
    resolve: async (_root, _args, ctx) => applied(ctx, unwrap(await resetRouting(ctx.configurationDeps, keyOf(ctx)))),
  }),
}));

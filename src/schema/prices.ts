// Provider price lists (ADMIN only): what each provider charges the account per segment, by
// destination. Domain logic in src/domain/prices.ts, writes in src/services/prices.ts.
import { ForbiddenError, NotFoundError, ValidationError } from '../domain/errors.js';
import { formatMicros } from '../domain/money.js';
import { selectInEffect } from '../domain/prices.js';
import { exportPrices, importPrices, removePrice, setPrice, type PriceImportCounts } from '../services/prices.js';
import { accountNode } from './account-node.js';
import { builder, definedProviders, keyOf } from './builder.js';
import { decodeId } from './global-id.js';
import { unwrap } from './unwrap.js';

export const Price = accountNode('Price', {
  description: 'What a provider charges this account per SMS segment to a country or number prefix, from effectiveFrom on.',
  fields: (t) => ({
    provider: t.exposeString('provider'),
    country: t.exposeString('country', { description: 'ISO 3166-1 alpha-2 of the destination.' }),
    prefix: t.string({
      nullable: true,
      description: 'Digits of the E.164 number after "+" the destination starts with (1415); null = the whole country. The longest matching prefix wins.',
      resolve: (p) => p.prefix || null,
    }),
    currency: t.exposeString('currency', { description: 'ISO 4217.' }),
    pricePerSegment: t.string({
      description: 'Exact decimal in `currency` ("0.0079"), at most 6 decimal places. "0" is free; an unknown price has no row.',
      resolve: (p) => formatMicros(p.pricePerSegmentMicros),
    }),
    effectiveFrom: t.expose('effectiveFrom', { type: 'DateTime' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const SetPriceInput = builder.inputType('SetPriceInput', {
  fields: (t) => ({
    provider: t.string({ required: true, description: 'A configured provider name.' }),
    country: t.string({ required: true, description: 'ISO 3166-1 alpha-2, upper case (US).' }),
    prefix: t.string({ required: false, description: "Digits after \"+\" (1415), starting with the country's calling code; omitted = the whole country." }),
    currency: t.string({ required: true, description: 'ISO 4217, three upper-case letters (USD).' }),
    pricePerSegment: t.string({ required: true, description: 'A decimal such as "0.0079": not negative, at most 6 decimal places, no exponent.' }),
    effectiveFrom: t.field({ type: 'DateTime', required: false, description: 'When the price starts to apply; default now.' }),
  }),
});

const PriceImport = builder.objectRef<PriceImportCounts>('PriceImport').implement({
  description: 'What an importPrices did.',
  fields: (t) => ({
    created: t.exposeInt('created', { description: 'Lines whose (provider, country, prefix, effective_from) the account did not have.' }),
    replaced: t.exposeInt('replaced', { description: 'Lines that replaced a price with the same (provider, country, prefix, effective_from).' }),
    removed: t.exposeInt('removed', { description: 'Prices deleted by replace: true that the file did not set again.' }),
  }),
});

builder.queryFields((t) => ({
  prices: t.prismaField({
    type: [Price],
    description:
      "ADMIN only. The account's prices by provider, country, prefix and effectiveFrom. With `at`, only the rows in effect then: " +
      'for each (provider, country, prefix), the latest with effectiveFrom ≤ at.',
    authScopes: { admin: true },
    args: {
      provider: t.arg.string({ required: false }),
      country: t.arg.string({ required: false }),
      at: t.arg({ type: 'DateTime', required: false }),
    },
    resolve: async (query, _root, args, ctx) => {
      const rows = await ctx.prisma.price.findMany({
        ...query,
        where: {
          accountId: ctx.auth.accountId,
          ...(args.provider != null && { provider: args.provider }),
          ...(args.country != null && { country: args.country }),
          ...(args.at && { effectiveFrom: { lte: args.at } }),
        },
        orderBy: [{ provider: 'asc' }, { country: 'asc' }, { prefix: 'asc' }, { effectiveFrom: 'asc' }],
      });
      return args.at ? selectInEffect(rows, args.at) : rows;
    },
  }),
  exportPrices: t.string({
    description: "ADMIN only. The account's prices as CSV (provider,country,prefix,currency,price,effective_from), as importPrices reads it.",
    authScopes: { admin: true },
    resolve: (_root, _args, ctx) => exportPrices(ctx.prisma, ctx.auth.accountId),
  }),
}));

builder.mutationFields((t) => ({
  setPrice: t.prismaField({
    type: Price,
    description: 'ADMIN only. Sets a price. The same (provider, country, prefix, effectiveFrom) again replaces that row; another effectiveFrom adds one.',
    authScopes: { admin: true },
    errors: { types: [ValidationError, ForbiddenError] },
    args: { input: t.arg({ type: SetPriceInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const { id } = unwrap(await setPrice(ctx.prisma, ctx.auth.accountId, { ...input, price: input.pricePerSegment }, { providers: definedProviders(ctx), author: keyOf(ctx) }));
      // No `...query`: a selection of only __typename would make it an empty (invalid) select.
      return ctx.prisma.price.findUniqueOrThrow({ where: { id } });
    },
  }),
  removePrice: t.field({
    type: 'ID',
    description: 'ADMIN only. Removes a price; returns its id.',
    authScopes: { admin: true },
    errors: { types: [NotFoundError, ForbiddenError] },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const id = unwrap(decodeId(args.id, 'Price'));
      unwrap(await removePrice(ctx.prisma, ctx.auth.accountId, id, keyOf(ctx)));
      return String(args.id);
    },
  }),
  importPrices: t.field({
    type: PriceImport,
    description:
      'ADMIN only. Imports a CSV price list (header provider,country,prefix,currency,price,effective_from; prefix and effective_from may be empty), ' +
      'all or nothing: any bad line is a ValidationError naming it (path ["csv", line, column]) and nothing is written. At most 1 MiB and 50 000 lines. ' +
      "replace: true first deletes every price of the account, in the same transaction.",
    authScopes: { admin: true },
    errors: { types: [ValidationError, ForbiddenError] },
    args: { csv: t.arg.string({ required: true }), replace: t.arg.boolean({ required: false, defaultValue: false }) },
    resolve: async (_root, args, ctx) =>
      unwrap(await importPrices(ctx.prisma, ctx.auth.accountId, args.csv, { providers: definedProviders(ctx), replace: args.replace, author: keyOf(ctx) })),
  }),
}));

// An account's provider price list: set, remove, import and export. The GraphQL mutations and
// `herald prices` both come here, so they check and answer alike. Every function is scoped by
// accountId: another account's price is NOT_FOUND and never listed.
import type { PrismaClient } from '../db/database.js';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { parsePriceInput, priceIssuesAt, priceKey, type PriceInput } from '../domain/prices.js';
import type { Price } from '../generated/prisma/client.js';
import { announceChange } from '../store/invalidation.js';
import { recordChange, type Author } from '../store/configuration.js';
import { recordAudit } from './audit.js';
import { formatMicros } from '../domain/money.js';
import { deletePrices, insertPrices } from '../store/prices.js';
import { formatPriceCsv, parsePriceCsv } from './price-csv.js';

export interface PriceOptions {
  /** Defined provider names (SMS_PROVIDERS and run-time ones): a price names one of them. */
  providers: readonly string[];
  /** Who makes the change, for the change log (store/configuration.ts). */
  author: Author;
  /** The default effectiveFrom; injected for tests. */
  now?: Date;
}

export interface PriceImportCounts {
  /** Prices whose (provider, country, prefix, effective_from) the account did not have. */
  created: number;
  /** Prices that replaced the account's row of the same (provider, country, prefix, effective_from). */
  replaced: number;
  /** Rows deleted by `replace` that the file did not set again (0 without it). */
  removed: number;
}

// Prisma's default transaction timeout is 5 s; a large import on a busy embedded database may
// take longer, and being cut off half-way would only make the caller try again.
const IMPORT_TIMEOUT_MS = 60_000;

/** Where each field of SetPriceInput is, for ValidationError paths. */
const INPUT_PATHS = { provider: 'provider', country: 'country', prefix: 'prefix', currency: 'currency', price: 'pricePerSegment', effectiveFrom: 'effectiveFrom' } as const;

/**
 * Sets one price. The same (provider, country, prefix, effectiveFrom) again replaces that row
 * (its id stays); a different effectiveFrom is a new row, the old price staying in effect before it.
 */
export async function setPrice(prisma: PrismaClient, accountId: string, input: PriceInput, options: PriceOptions): Promise<Price | ValidationError> {
  const parsed = parsePriceInput(input, { providers: options.providers, now: options.now ?? new Date() });
  if (Array.isArray(parsed)) return new ValidationError(priceIssuesAt(parsed, ['input'], INPUT_PATHS));
  const { provider, country, prefix, effectiveFrom, currency, pricePerSegmentMicros } = parsed;
  const upsert = () =>
    prisma.$transaction(async (tx) => {
      const where = { accountId_provider_country_prefix_effectiveFrom: { accountId, provider, country, prefix, effectiveFrom } };
      const before = await tx.price.findUnique({ where });
      const price = await tx.price.upsert({ where, create: { accountId, ...parsed }, update: { currency, pricePerSegmentMicros } });
      await recordChange(tx, options.author, { subject: `price:${price.id}`, action: 'SET', before: before && shownPrice(before), after: shownPrice(price) });
      await recordAudit(tx, options.author, { action: 'price.set', subjectId: price.id, before: before && shownPrice(before), after: shownPrice(price) });
      return price;
    });
  let price: Price;
  try {
    price = await upsert();
  } catch (error) {
    // Two sets of one key at once: both inserted, one lost on the unique index. Now it exists.
    if (!isUniqueViolation(error)) throw error;
    price = await upsert();
  }
  await announceChange(prisma, 'prices', accountId);
  return price;
}

export async function removePrice(prisma: PrismaClient, accountId: string, id: string, author: Author): Promise<{ id: string } | NotFoundError> {
  const removed = await prisma.$transaction(async (tx) => {
    const before = await tx.price.findFirst({ where: { id, accountId } });
    if (!before) return false;
    await tx.price.delete({ where: { id } });
    await recordChange(tx, author, { subject: `price:${id}`, action: 'REMOVE', before: shownPrice(before) });
    await recordAudit(tx, author, { action: 'price.remove', subjectId: id, before: shownPrice(before) });
    return true;
  });
  if (!removed) return new NotFoundError('price');
  await announceChange(prisma, 'prices', accountId);
  return { id };
}

/**
 * Imports a CSV price list (price-csv.ts), all or nothing: a bad line refuses the whole file
 * and writes nothing. Lines set prices as setPrice does; `replace` first deletes every price of
 * the account, in the same transaction. Replaced rows get new ids.
 */
export async function importPrices(
  prisma: PrismaClient,
  accountId: string,
  csv: string,
  options: PriceOptions & { replace?: boolean | null },
): Promise<PriceImportCounts | ValidationError> {
  const rows = await parsePriceCsv(csv, { providers: options.providers, now: options.now ?? new Date() });
  if (rows instanceof ValidationError) return rows;
  let counts: PriceImportCounts;
  try {
    counts = await prisma.$transaction(
      async (tx) => {
        const existing = await tx.price.findMany({ where: { accountId }, select: { id: true, provider: true, country: true, prefix: true, effectiveFrom: true } });
        const idOfKey = new Map(existing.map((row) => [priceKey(row), row.id]));
        const replacedIds = rows.flatMap((row) => idOfKey.get(priceKey(row)) ?? []);
        if (options.replace) await tx.price.deleteMany({ where: { accountId } });
        else await deletePrices(tx, accountId, replacedIds);
        await insertPrices(tx, accountId, rows);
        const replaced = replacedIds.length;
        const counts = { created: rows.length - replaced, replaced, removed: options.replace ? existing.length - replaced : 0 };
        await recordChange(tx, options.author, { subject: 'price:', action: 'IMPORT', after: { ...counts, replace: Boolean(options.replace) } });
        await recordAudit(tx, options.author, { action: 'price.import', after: { ...counts, replace: Boolean(options.replace) } });
        return counts;
      },
      { timeout: IMPORT_TIMEOUT_MS },
    );
  } catch (error) {
    // Another import or setPrice wrote one of these keys between our read and our insert.
    if (isUniqueViolation(error)) {
      return new ValidationError([{ path: ['csv'], message: "the account's prices changed during the import; nothing was written, import again" }]);
    }
    throw error;
  }
  await announceChange(prisma, 'prices', accountId);
  return counts;
}

/** Every price of the account as CSV, by provider, country, prefix and effectiveFrom. */
export async function exportPrices(prisma: PrismaClient, accountId: string): Promise<string> {
  const rows = await prisma.price.findMany({
    where: { accountId },
    orderBy: [{ provider: 'asc' }, { country: 'asc' }, { prefix: 'asc' }, { effectiveFrom: 'asc' }],
  });
  return formatPriceCsv(rows);
}

/** What the change log keeps of a price. */
function shownPrice(p: Pick<Price, 'provider' | 'country' | 'prefix' | 'currency' | 'pricePerSegmentMicros' | 'effectiveFrom'>): Record<string, unknown> {
  return { provider: p.provider, country: p.country, prefix: p.prefix, currency: p.currency, pricePerSegment: formatMicros(p.pricePerSegmentMicros), effectiveFrom: p.effectiveFrom.toISOString() };
}

/** A unique index refused a row: P2002 from Prisma's own queries, P2010 around 23505 from raw SQL. */
function isUniqueViolation(error: unknown): boolean {
  const { code, meta } = error as { code?: string; meta?: { driverAdapterError?: { cause?: { kind?: string } } } };
  return code === 'P2002' || (code === 'P2010' && meta?.driverAdapterError?.cause?.kind === 'UniqueConstraintViolation');
}

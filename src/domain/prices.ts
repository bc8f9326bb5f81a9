// Provider price lists: what one price row says, how an input becomes one, and which row prices
// a message. Pure: the rows come from the caller (services/prices.ts, store/prices.ts), so the
// dispatcher can ask the same question of an account's rows held in memory.
import { getCountryCallingCode, isSupportedCountry } from 'libphonenumber-js/max';
import type { ValidationIssue } from './errors.js';
import { countryOfNumber } from './phone.js';
import { CURRENCY_CODE, formatMicros, parseMicros, type Money } from './money.js';

/** What the lookup reads of a price row (a Prisma `Price` has these and more). */
export interface PriceRow {
  provider: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
  /** Digits after "+" the destination starts with; "" = the whole country. */
  prefix: string;
  currency: string;
  pricePerSegmentMicros: bigint;
  effectiveFrom: Date;
}

/** A price as given (GraphQL input or a CSV line), every field text except the date. */
export interface PriceInput {
  provider: string;
  country: string;
  prefix?: string | null;
  currency: string;
  price: string;
  /** A Date (GraphQL's DateTime), an ISO 8601 text (CSV), or nothing for `now`. */
  effectiveFrom?: Date | string | null;
}

export type PriceField = keyof PriceInput;

/** A problem with one field of a PriceInput: the caller turns `field` into its own path. */
export interface PriceFieldIssue {
  field: PriceField;
  message: string;
}

// E.164 allows 15 digits; a prefix is at most a whole number.
const PREFIX = /^\d{1,15}$/;
const COUNTRY = /^[A-Z]{2}$/;
// ISO 8601 with a time zone (Z or ±hh:mm), or a date alone (midnight UTC): a time without a zone
// would be read in the server's zone, which a price list must not depend on.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/i;

/**
 * Checks and normalises a price. `providers` are the configured names; `now` is the default
 * effectiveFrom. Every field's problem is reported, not only the first.
 */
export function parsePriceInput(input: PriceInput, options: { providers: readonly string[]; now: Date }): PriceRow | PriceFieldIssue[] {
  const issues: PriceFieldIssue[] = [];
  const issue = (field: PriceField, message: string) => issues.push({ field, message });

  const provider = input.provider.trim();
  if (!options.providers.includes(provider)) {
    issue('provider', `${provider ? `"${provider}" is not` : 'must be'} a configured provider (configured: ${options.providers.join(', ')})`);
  }

  const country = input.country.trim();
  const knownCountry = COUNTRY.test(country) && isSupportedCountry(country);
  if (!knownCountry) issue('country', `must be an ISO 3166-1 alpha-2 country code in upper case, such as US; found ${JSON.stringify(input.country)}`);

  // A leading "+" is forgiven: SMS_ROUTES writes its prefixes that way.
  const prefix = (input.prefix ?? '').trim().replace(/^\+/, '');
  if (prefix && !PREFIX.test(prefix)) issue('prefix', 'must be the digits the E.164 number starts with after "+", such as 1415');
  else if (prefix && knownCountry) {
    const callingCode = getCountryCallingCode(country as Parameters<typeof getCountryCallingCode>[0]);
    if (!prefix.startsWith(callingCode)) issue('prefix', `must start with ${country}'s calling code ${callingCode}`);
  }

  const currency = input.currency.trim();
  if (!CURRENCY_CODE.test(currency)) issue('currency', `must be an ISO 4217 currency code: three upper-case letters, such as USD; found ${JSON.stringify(input.currency)}`);

  const price = parseMicros(input.price);
  if (!price.ok) issue('price', price.message);

  const effectiveFrom = parseEffectiveFrom(input.effectiveFrom, options.now);
  if (!effectiveFrom) issue('effectiveFrom', 'must be an ISO 8601 date-time with a time zone (2026-01-01T00:00:00Z) or a date (2026-01-01, midnight UTC)');

  if (issues.length || !price.ok || !effectiveFrom) return issues;
  return { provider, country, prefix, currency, pricePerSegmentMicros: price.micros, effectiveFrom };
}

function parseEffectiveFrom(value: Date | string | null | undefined, now: Date): Date | undefined {
  if (value == null) return now;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  const text = value.trim();
  if (!text) return now;
  if (!DATE_TIME.test(text)) return undefined;
  // Date rolls 2026-02-30 over to March 2 without a word.
  const [year, month, day] = text.slice(0, 10).split('-').map(Number);
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return undefined;
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** The identity of a row: setting the same key again replaces the row. */
export function priceKey(row: Pick<PriceRow, 'provider' | 'country' | 'prefix' | 'effectiveFrom'>): string {
  return `${row.provider}\u0000${row.country}\u0000${row.prefix}\u0000${row.effectiveFrom.getTime()}`;
}

/** Where a message goes, as the lookup needs it. */
export interface Destination {
  country: string;
  /** The E.164 number without "+". */
  digits: string;
}

/** The destination of an E.164 number, or undefined when no country can be told from it. */
export function destinationOf(e164: string): Destination | undefined {
  const country = countryOfNumber(e164);
  return country ? { country, digits: e164.replace(/^\+/, '') } : undefined;
}

/**
 * The price of sending to `to` (E.164, or an already parsed Destination) through `provider`
 * at `at`: among the provider's rows for the number's country whose prefix the number starts
 * with and that are in effect (effectiveFrom ≤ at), the longest prefix wins (none is shortest),
 * then the latest effectiveFrom. Null when none fits: an unknown price, never 0.
 */
export function findApplicablePrice<Row extends PriceRow>(rows: Iterable<Row>, provider: string, to: string | Destination, at: Date): Row | null {
  const destination = typeof to === 'string' ? destinationOf(to) : to;
  if (!destination) return null;
  const time = at.getTime();
  let best: Row | null = null;
  for (const row of rows) {
    if (row.provider !== provider || row.country !== destination.country) continue;
    if (!destination.digits.startsWith(row.prefix) || row.effectiveFrom.getTime() > time) continue;
    if (
      !best ||
      row.prefix.length > best.prefix.length ||
      (row.prefix.length === best.prefix.length && row.effectiveFrom.getTime() > best.effectiveFrom.getTime())
    ) {
      best = row;
    }
  }
  return best;
}

/**
 * The rows in effect at `at`: for each (provider, country, prefix), the latest row with
 * effectiveFrom ≤ at. Order is kept.
 */
export function selectInEffect<Row extends PriceRow>(rows: readonly Row[], at: Date): Row[] {
  const latest = new Map<string, Row>();
  for (const row of rows) {
    if (row.effectiveFrom.getTime() > at.getTime()) continue;
    const key = `${row.provider}\u0000${row.country}\u0000${row.prefix}`;
    const current = latest.get(key);
    if (!current || row.effectiveFrom.getTime() > current.effectiveFrom.getTime()) latest.set(key, row);
  }
  const kept = new Set(latest.values());
  return rows.filter((row) => kept.has(row));
}

/** What `segments` segments cost at `price`, in the price's currency. */
export function costOf(price: Pick<PriceRow, 'pricePerSegmentMicros' | 'currency'>, segments: number): Money {
  return { micros: BigInt(segments) * price.pricePerSegmentMicros, currency: price.currency };
}

/** A provider's estimate for one message: all null when its price is unknown. */
export interface CostEstimate {
  provider: string;
  segments: number;
  pricePerSegment: string | null;
  currency: string | null;
  estimatedCost: string | null;
}

/** The estimate of each provider (in the order given) for a message of `segments` to `to`. */
export function estimateCosts(rows: readonly PriceRow[], providers: readonly string[], to: string, segments: number, at: Date): CostEstimate[] {
  const destination = destinationOf(to);
  return providers.map((provider) => {
    const price = destination ? findApplicablePrice(rows, provider, destination, at) : null;
    if (!price) return { provider, segments, pricePerSegment: null, currency: null, estimatedCost: null };
    return {
      provider,
      segments,
      pricePerSegment: formatMicros(price.pricePerSegmentMicros),
      currency: price.currency,
      estimatedCost: formatMicros(costOf(price, segments).micros),
    };
  });
}

/** Issues of a PriceInput as ValidationIssues under `path` with each field's own name. */
export function priceIssuesAt(issues: readonly PriceFieldIssue[], path: string[], names: Record<PriceField, string>): ValidationIssue[] {
  return issues.map(({ field, message }) => ({ path: [...path, names[field]], message }));
}

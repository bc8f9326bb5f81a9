// messageStats: the rules that do not need the database (range checks, what counts as final,
// rates, and which country a number belongs to). The SQL lives in src/store/message-stats.ts.
import { getCountries, getCountryCallingCode } from 'libphonenumber-js/max';
import { ValidationError } from './errors.js';
import { normalizePhoneNumber } from './phone.js';

export const statsGroupBys = ['DAY', 'PROVIDER', 'STATUS', 'COUNTRY', 'TEMPLATE'] as const;
export type StatsGroupBy = (typeof statsGroupBys)[number];

/** Longest range one call may cover: a year plus a month, so "last 12 months" always fits. */
export const MAX_RANGE_DAYS = 400;
const DAY_MS = 86_400_000;

/** Key of a group whose value is missing: no provider yet, no template, a country not known. */
export const NONE_KEY = 'NONE';
/** ISO 3166 "unknown or unspecified" code, for numbers libphonenumber places in no country. */
export const UNKNOWN_COUNTRY = 'ZZ';

/** `from` inclusive, `to` exclusive; `to` after `from`; at most MAX_RANGE_DAYS apart. */
export function checkStatsRange(from: Date, to: Date): ValidationError | undefined {
  const issues = [];
  if (Number.isNaN(from.getTime())) issues.push({ path: ['from'], message: 'is not a valid date' });
  if (Number.isNaN(to.getTime())) issues.push({ path: ['to'], message: 'is not a valid date' });
  if (issues.length === 0 && to.getTime() <= from.getTime()) issues.push({ path: ['to'], message: 'must be after `from`' });
  if (issues.length === 0 && to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) {
    issues.push({ path: ['to'], message: `the range may cover at most ${MAX_RANGE_DAYS} days` });
  }
  return issues.length ? new ValidationError(issues) : undefined;
}

/** Counts of one group as the SQL returns them. */
export interface StatsCounts {
  total: number;
  delivered: number;
  undelivered: number;
  failed: number;
  rejected: number;
  expired: number;
  canceled: number;
  inFlight: number;
}

/**
 * delivered / final, where final = every message whose outcome is known (DELIVERED, UNDELIVERED,
 * FAILED, REJECTED, EXPIRED). CANCELED messages were never sent and in-flight ones have no outcome
 * yet: counting either would move the rate with the clock, not with delivery. null without finals.
 */
export function deliveryRate(c: StatsCounts): number | null {
  const final = c.delivered + c.undelivered + c.failed + c.rejected + c.expired;
  return final === 0 ? null : c.delivered / final;
}

// ---- Rolled-up days and the live rest -----------------------------------------------------------
// Days that are over are read from a rollup (src/store/message-stats-rollup.ts); the rest of a
// range (its partial first and last days, today, days not rolled up yet or changed since) is
// counted live. Days are UTC, written YYYY-MM-DD.

const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** The whole UTC days inside [from, to) as [firstDay, endDay) (endDay excluded); null when none. */
export function wholeDays(from: Date, to: Date): { firstDay: string; endDay: string } | null {
  const first = Math.ceil(from.getTime() / DAY_MS) * DAY_MS;
  const end = Math.floor(to.getTime() / DAY_MS) * DAY_MS;
  return first < end ? { firstDay: dayOf(first), endDay: dayOf(end) } : null;
}

/** [from, to) less the given whole days (ascending, inside the range): the intervals to count live. */
export function liveIntervals(from: Date, to: Date, rolledDays: readonly string[]): { from: Date; to: Date }[] {
  const intervals: { from: Date; to: Date }[] = [];
  let cursor = from.getTime();
  for (const day of rolledDays) {
    const start = Date.parse(`${day}T00:00:00Z`);
    if (start > cursor) intervals.push({ from: new Date(cursor), to: new Date(start) });
    cursor = Math.max(cursor, start + DAY_MS);
  }
  if (cursor < to.getTime()) intervals.push({ from: new Date(cursor), to });
  return intervals;
}

// ---- Country ----------------------------------------------------------------------------------
// The country is derived from the stored E.164 number at query time, not stored at intake: rows
// sent before this feature would otherwise have no country (SQL alone cannot run libphonenumber
// to backfill them), and a calling code identifies the country for almost every number. The SQL
// reduces each number to a short "country prefix"; libphonenumber names the country of one sample
// number per prefix; the SQL then groups by that country.

interface PrefixPlan {
  /** "+49", "+353": calling codes that belong to exactly one country. */
  uniqueCodes: string[];
  uniqueCountry: Map<string, string>;
}

let plan: PrefixPlan | undefined;

function prefixPlan(): PrefixPlan {
  if (plan) return plan;
  const byCode = new Map<string, string[]>();
  for (const country of getCountries()) {
    const code = `+${getCountryCallingCode(country)}`;
    byCode.set(code, [...(byCode.get(code) ?? []), country]);
  }
  const uniqueCountry = new Map([...byCode].filter(([, countries]) => countries.length === 1).map(([code, [country]]) => [code, country!]));
  plan = { uniqueCodes: [...uniqueCountry.keys()], uniqueCountry };
  return plan;
}

/** Calling codes that name one country: the SQL uses them as the whole prefix. */
export const uniqueCallingCodes = (): string[] => prefixPlan().uniqueCodes;

/**
 * How many characters of a number whose calling code is shared by several countries (+1, +7,
 * +44, +47, +61, …) the SQL keeps: "+1" and the area code name the NANP country; 7 characters
 * ("+441481" Guernsey, "+77" Kazakhstan) tell the others apart.
 */
export const NANP_PREFIX_LENGTH = 5;
export const SHARED_PREFIX_LENGTH = 7;

/** The prefix the SQL computes, in TypeScript (for tests and for numbers seen one at a time). */
export function countryPrefix(e164: string): string {
  const { uniqueCountry } = prefixPlan();
  for (const length of [2, 3, 4]) if (uniqueCountry.has(e164.slice(0, length))) return e164.slice(0, length);
  return e164.slice(0, e164.startsWith('+1') ? NANP_PREFIX_LENGTH : SHARED_PREFIX_LENGTH);
}

/** ISO country of a prefix, from one number that has it; UNKNOWN_COUNTRY when none. */
export function countryOfPrefix(prefix: string, sample: string): string {
  const direct = prefixPlan().uniqueCountry.get(prefix);
  if (direct) return direct;
  const parsed = normalizePhoneNumber(sample);
  return (parsed.ok && parsed.country) || UNKNOWN_COUNTRY;
}

const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });

/** "DE" → "Germany"; null for codes Intl does not name (ZZ). */
export function countryLabel(code: string): string | null {
  if (code === UNKNOWN_COUNTRY) return 'Unknown';
  try {
    return regionNames.of(code) ?? null;
  } catch {
    return null;
  }
}

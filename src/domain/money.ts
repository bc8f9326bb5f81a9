// Amounts of money as integer micro-units (millionths of the currency unit) in a BigInt: prices
// per segment are fractions of a cent (0.0079), and a float would drift once summed over
// millions of messages. Text in and out is a plain decimal ("0.0079"), never scientific notation.

/** Micro-units in one unit of a currency. */
export const MICROS_PER_UNIT = 1_000_000n;

/** Most decimal places an amount may have: one micro-unit. */
export const MAX_DECIMALS = 6;

/**
 * Largest amount accepted, in units: keeps every price × segments of one message, and sums of
 * many, far inside PostgreSQL's bigint (9.2 × 10^18 micro-units).
 */
export const MAX_UNITS = 1_000_000_000n;

/** An ISO 4217 currency code's shape: three upper-case letters. */
export const CURRENCY_CODE = /^[A-Z]{3}$/;

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/** A decimal text as micro-units, or what is wrong with it (for a ValidationIssue). */
export function parseMicros(text: string): { ok: true; micros: bigint } | { ok: false; message: string } {
  const trimmed = text.trim();
  if (trimmed.startsWith('-')) return { ok: false, message: 'must not be negative' };
  const match = DECIMAL.exec(trimmed);
  if (!match) return { ok: false, message: `must be a decimal number such as 0.0079 (digits, an optional point and up to ${MAX_DECIMALS} decimals); found ${JSON.stringify(text)}` };
  const [, whole, fraction = ''] = match;
  if (fraction.length > MAX_DECIMALS) return { ok: false, message: `has ${fraction.length} decimal places; at most ${MAX_DECIMALS} are kept exactly` };
  const micros = BigInt(whole) * MICROS_PER_UNIT + BigInt(fraction.padEnd(MAX_DECIMALS, '0'));
  if (micros >= MAX_UNITS * MICROS_PER_UNIT) return { ok: false, message: `must be less than ${MAX_UNITS}` };
  return { ok: true, micros };
}

const SIGNED_DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;

/**
 * An amount a provider reported for a message, as micro-units of its magnitude: providers write
 * a charge with either sign (Twilio's `price` is negative, "-0.00750"), and what Herald records
 * is what the message cost. Zeros past the sixth decimal are dropped ("0.0075000" is exact); a
 * digit there is refused rather than rounded, as is anything but a plain decimal.
 */
export function parseReportedAmount(text: string): { ok: true; micros: bigint } | { ok: false; message: string } {
  const match = SIGNED_DECIMAL.exec(text.trim());
  if (!match) return { ok: false, message: `is not a decimal amount: ${JSON.stringify(text)}` };
  const [, , whole, fraction = ''] = match;
  const kept = fraction.replace(/0+$/, '');
  if (kept.length > MAX_DECIMALS) return { ok: false, message: `has ${kept.length} decimal places; at most ${MAX_DECIMALS} are kept exactly` };
  return parseMicros(kept ? `${whole}.${kept}` : whole);
}

/** Micro-units as the shortest exact decimal: 7900n → "0.0079", 12_500_000n → "12.5", 0n → "0". */
export function formatMicros(micros: bigint): string {
  const sign = micros < 0n ? '-' : '';
  const magnitude = micros < 0n ? -micros : micros;
  const whole = magnitude / MICROS_PER_UNIT;
  const fraction = (magnitude % MICROS_PER_UNIT).toString().padStart(MAX_DECIMALS, '0').replace(/0+$/, '');
  return `${sign}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** An amount in one currency (ISO 4217). */
export interface Money {
  micros: bigint;
  currency: string;
}

/**
 * Per-currency totals of a list of amounts. Amounts in different currencies are never added
 * together: there is no exchange rate here, and a mixed sum would be a number of nothing.
 */
export function sumByCurrency(amounts: Iterable<Money>): Map<string, bigint> {
  const totals = new Map<string, bigint>();
  for (const { micros, currency } of amounts) totals.set(currency, (totals.get(currency) ?? 0n) + micros);
  return totals;
}

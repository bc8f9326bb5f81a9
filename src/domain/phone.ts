import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { InvalidPhoneNumberError } from './errors.js';

export type PhoneResult = { ok: true; e164: string; country: string | undefined } | { ok: false; error: InvalidPhoneNumberError };

/**
 * Normalises a recipient to E.164 (`+86 138-0013-8000` → `+8613800138000`). Numbers without
 * a leading `+` are read in `defaultCountry` when one is given. Uses libphonenumber's full
 * metadata (`/max`) so a number that has the right length but no valid range for its
 * country is refused, as carriers would refuse it.
 */
export function normalizePhoneNumber(input: string, defaultCountry?: CountryCode): PhoneResult {
  const trimmed = input.trim();
  const parsed = trimmed ? parsePhoneNumberFromString(trimmed, defaultCountry) : undefined;
  if (!parsed || !parsed.isValid()) return { ok: false, error: new InvalidPhoneNumberError(input) };
  return { ok: true, e164: parsed.number, country: parsed.country };
}

/** Numbers whose country is remembered (a few routing decisions' worth; then it starts over). */
const MAX_REMEMBERED_COUNTRIES = 1_000;
const countries = new Map<string, string | undefined>();

/**
 * The ISO country of an E.164 number as libphonenumber places it, undefined when it places it
 * nowhere. Remembered for the last numbers asked: one routing decision asks for the same number
 * twice (the route's `countries` match, then the price lookup), and the parse is most of the
 * decision's cost. Pure input → output, so sharing the memory across Heralds changes nothing.
 */
export function countryOfNumber(e164: string): string | undefined {
  if (countries.has(e164)) return countries.get(e164);
  if (countries.size >= MAX_REMEMBERED_COUNTRIES) countries.clear();
  const country = parsePhoneNumberFromString(e164)?.country;
  countries.set(e164, country);
  return country;
}

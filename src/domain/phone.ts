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

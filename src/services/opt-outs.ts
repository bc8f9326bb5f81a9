// The API's side of the opt-out list: numbers as clients give them, normalised to E.164.
import type { HeraldError } from '../domain/errors.js';
import { NotFoundError } from '../domain/errors.js';
import { normalizePhoneNumber } from '../domain/phone.js';
import type { OptOutStore } from '../store/opt-outs.js';

type CountryCode = Parameters<typeof normalizePhoneNumber>[1];

/** Adds a number to the account's opt-out list (idempotent). */
export async function addOptOut(optOuts: OptOutStore, accountId: string, phone: string, options: { defaultCountry?: string; source?: string } = {}) {
  const parsed = normalizePhoneNumber(phone, options.defaultCountry as CountryCode);
  if (!parsed.ok) return parsed.error;
  return optOuts.add(accountId, parsed.e164, options.source ?? 'API');
}

export async function removeOptOut(
  optOuts: OptOutStore,
  accountId: string,
  phone: string,
  options: { defaultCountry?: string } = {},
): Promise<{ phone: string } | HeraldError> {
  const parsed = normalizePhoneNumber(phone, options.defaultCountry as CountryCode);
  if (!parsed.ok) return parsed.error;
  return (await optOuts.remove(accountId, parsed.e164)) ? { phone: parsed.e164 } : new NotFoundError(`opt-out for ${parsed.e164}`);
}

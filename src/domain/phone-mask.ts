// Phone numbers as they may be shown where the whole number is not needed (logs, the audit log):
// the country code, the first digits of the national number and the last four, the rest
// starred — `+8613800138000` → `+86 138****8000`, as Chinese and European operators print them.
// libphonenumber-js splits the country code (1 to 3 digits) from the national number; it has
// no masking of its own.
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/** How many national digits stay visible at the start and the end. */
const LEAD = 3;
const TAIL = 4;

/**
 * Masks an E.164 number (or anything libphonenumber can read with a leading `+`). A national
 * number too short to hide anything behind 3 + 4 digits keeps only its last two. Input that is
 * not a phone number is starred except for its last two characters, never returned as given.
 */
export function maskPhoneNumber(input: string): string {
  const parsed = parsePhoneNumberFromString(input.trim());
  if (!parsed) return `${'*'.repeat(Math.max(0, input.length - 2))}${input.slice(-2)}`;
  const national = parsed.nationalNumber;
  const visible = national.length >= LEAD + TAIL + 2 ? { lead: LEAD, tail: TAIL } : { lead: 0, tail: Math.min(2, national.length - 1) };
  const hidden = national.length - visible.lead - visible.tail;
  return `+${parsed.countryCallingCode} ${national.slice(0, visible.lead)}${'*'.repeat(hidden)}${national.slice(national.length - visible.tail)}`;
}

// What an erased recipient's messages keep: not their number, but a number of the same country
// (libphonenumber's example mobile number for it), so messageStats by country, which reads the
// calling code and, where several countries share one (+1), a sample number, stays right.
import { getExampleNumber, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/mobile/examples';

/** The stand-in for `e164` on its erased messages: same country, never a real subscriber's. */
export function anonymisedNumber(e164: string): string {
  const country = parsePhoneNumberFromString(e164)?.country;
  const example = country ? getExampleNumber(country, examples) : undefined;
  // A number libphonenumber cannot place keeps only its calling code's digit run, zeroed.
  if (!example || example.number === e164) return `+${parsePhoneNumberFromString(e164)?.countryCallingCode ?? ''}0000000`;
  return example.number;
}

/** What an opt-out of an erased number becomes: a keyed hash (STOP stays honoured, the number is gone). */
export const ERASED_OPT_OUT_PREFIX = 'erased:';

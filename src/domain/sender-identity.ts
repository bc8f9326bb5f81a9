// What an account may send from: a phone number or an alphanumeric sender id. Pure.
import type { CountryCode } from 'libphonenumber-js';
import { ValidationError } from './errors.js';
import { normalizePhoneNumber } from './phone.js';

export type SenderIdentityKind = 'NUMBER' | 'ALPHANUMERIC';

export interface ParsedSenderIdentity {
  kind: SenderIdentityKind;
  /** E.164 for a number; the sender id as given (trimmed) otherwise. */
  value: string;
}

// Only digits and the usual separators: anything else is meant as a sender id, not a number.
const LOOKS_LIKE_NUMBER = /^\+?[\d\s().-]+$/;
// GSM 03.40 allows 11 characters in an alphanumeric originator; carriers accept letters, digits
// and spaces, and need one letter (an all-digit originator is read as a number).
const ALPHANUMERIC = /^[A-Za-z0-9 ]{3,11}$/;
const HAS_LETTER = /[A-Za-z]/;

/**
 * Reads a sender identity. Numbers are normalised to E.164 so that an inbound message's `to`,
 * normalised the same way, finds its owner. `path` names the input field in errors.
 */
export function parseSenderIdentity(input: string, defaultCountry?: string, path: string[] = ['value']): ParsedSenderIdentity | ValidationError {
  const value = input.trim();
  if (LOOKS_LIKE_NUMBER.test(value)) {
    const phone = normalizePhoneNumber(value, defaultCountry as CountryCode | undefined);
    if (!phone.ok) return new ValidationError([{ path, message: 'is not a valid phone number (use E.164, e.g. +14155550100)' }]);
    return { kind: 'NUMBER', value: phone.e164 };
  }
  if (!ALPHANUMERIC.test(value) || !HAS_LETTER.test(value)) {
    return new ValidationError([
      { path, message: 'must be a phone number, or a sender id of 3 to 11 letters, digits or spaces with at least one letter' },
    ]);
  }
  return { kind: 'ALPHANUMERIC', value };
}

// How often codes may be sent: per number (resend cool-down and a short window), and the
// account's anti-pumping rules (a country allow-list, and a velocity limit per number range).
//
// SMS pumping ("toll fraud"): a bot asks for codes to premium or partner-owned numbers, often
// sequential ones in one range, and the fraudster is paid per delivered SMS. One number is
// cheap to limit; the signature is many numbers sharing a prefix, hence the prefix velocity.
//
// Counts come from the Verification rows themselves (one row per code sent), so a refusal's
// retryAfterSeconds is exact under an injected clock and an operator can see what was counted
// with `verifications(to:)`.
import { isSupportedCountry } from 'libphonenumber-js/max';
import { z } from 'zod';
import type { ValidationError } from './errors.js';
import { parseOrError } from './validation.js';

/** At least this long between two codes to one number (Twilio Verify: 30 s; Aliyun: 60 s). */
export const RESEND_COOLDOWN_SECONDS = 60;
/** At most this many codes to one number per window (Twilio Verify: 5 sends per 10 minutes). */
export const NUMBER_WINDOW = Object.freeze({ max: 5, perSeconds: 600 });

/**
 * Codes to numbers sharing their first `prefixDigits` digits (country code included, after
 * the '+'): at most `max` per `perSeconds`. Default: 7 digits — a NANP exchange (+1 NPA NXX,
 * 10 000 numbers), a Chinese mobile block (+86 1xx xx) — at most 20 an hour, far above a real
 * audience's rate into one range and far below what pumping needs to pay.
 */
export interface PrefixVelocity {
  prefixDigits: number;
  max: number;
  perSeconds: number;
}

export const DEFAULT_PREFIX_VELOCITY: Readonly<PrefixVelocity> = Object.freeze({ prefixDigits: 7, max: 20, perSeconds: 3600 });

const prefixVelocitySchema = z.strictObject({
  prefixDigits: z.int().min(1, 'must be 1 to 15 (E.164 has at most 15 digits)').max(15, 'must be 1 to 15 (E.164 has at most 15 digits)'),
  max: z.int().min(1, 'must be at least 1').max(1_000_000, 'must be at most 1000000'),
  perSeconds: z.int().min(60, 'must be 60 to 2592000 (30 days)').max(2_592_000, 'must be 60 to 2592000 (30 days)'),
});

/** Validates a submitted velocity limit; issues name the field (`prefixDigits`, …). */
export function parsePrefixVelocity(input: unknown, path: string[] = []): PrefixVelocity | ValidationError {
  return parseOrError(prefixVelocitySchema, input, path);
}

/** The limit in force: the stored one, or the default when none (or a bad one) is stored. */
export function resolvePrefixVelocity(stored: unknown): PrefixVelocity {
  if (stored === null || stored === undefined) return { ...DEFAULT_PREFIX_VELOCITY };
  const parsed = prefixVelocitySchema.safeParse(stored);
  return parsed.success ? parsed.data : { ...DEFAULT_PREFIX_VELOCITY };
}

/** The range an E.164 number is counted in: '+' and its first `digits` digits. */
export function numberPrefix(e164: string, digits: number): string {
  return `+${e164.replace(/^\+/, '').slice(0, digits)}`;
}

const countriesSchema = z
  .array(
    z
      .string()
      .trim()
      .transform((c) => c.toUpperCase())
      .refine((c) => /^[A-Z]{2}$/.test(c) && isSupportedCountry(c), 'is not an ISO 3166 alpha-2 country code with phone numbers (e.g. US, CN)'),
  )
  .max(300);

/** An allow-list as submitted: upper-cased, deduplicated, sorted; [] allows every country. */
export function parseAllowedCountries(input: readonly string[], path: string[] = []): string[] | ValidationError {
  const parsed = parseOrError(countriesSchema, input, path);
  return Array.isArray(parsed) ? [...new Set(parsed)].sort() : parsed;
}

/** Whether a number of `country` (libphonenumber's, undefined for non-geographic) may get codes. */
export function isCountryAllowed(country: string | undefined, allowList: readonly string[]): boolean {
  return allowList.length === 0 || (country !== undefined && allowList.includes(country));
}

/**
 * Seconds until a window that already holds `max` sends has room again, or 0 when it has room.
 * `nthNewest` is the send that will leave the window first among those that fill it: the
 * `max`-th newest send within the window (undefined when there are fewer than `max`).
 */
export function windowWaitSeconds(nthNewest: Date | undefined, perSeconds: number, now: Date): number {
  if (!nthNewest) return 0;
  const ms = nthNewest.getTime() + perSeconds * 1000 - now.getTime();
  return ms > 0 ? Math.ceil(ms / 1000) : 0;
}

/**
 * Seconds before another code may go to a number, given its earlier sends (newest first; at
 * least the last NUMBER_WINDOW.max within the window), or 0 when one may go now. Both the
 * cool-down and the window must allow it, so the wait is the longer of the two.
 */
export function numberWaitSeconds(sentAt: readonly Date[], now: Date): number {
  const cooldown = windowWaitSeconds(sentAt[0], RESEND_COOLDOWN_SECONDS, now);
  const inWindow = sentAt.filter((at) => now.getTime() - at.getTime() < NUMBER_WINDOW.perSeconds * 1000);
  const window = windowWaitSeconds(inWindow[NUMBER_WINDOW.max - 1], NUMBER_WINDOW.perSeconds, now);
  return Math.max(cooldown, window);
}

// One-time codes (issue 6, "Verification"), as pure functions: the code, its keyed hash, the
// start input's rules and what a check does to a verification. The service (src/services/
// verification-*.ts) brings the database, the HMAC key and the clock.
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ValidationError, type VerificationFailureReason } from './errors.js';
import { toValidationIssues } from './validation.js';

export type VerificationStatus = 'PENDING' | 'APPROVED' | 'CANCELED' | 'EXPIRED' | 'MAX_ATTEMPTS_REACHED';

// Twilio Verify's defaults and bounds: 6 digits (4–10), valid 10 minutes, 5 checks.
export const DEFAULT_CODE_LENGTH = 6;
export const MIN_CODE_LENGTH = 4;
export const MAX_CODE_LENGTH = 10;
export const DEFAULT_TTL_SECONDS = 600;
export const MIN_TTL_SECONDS = 60;
export const MAX_TTL_SECONDS = 86_400;
export const MAX_CHECK_ATTEMPTS = 5;

/** `randomInt(max)`: a uniform integer in [0, max). Injected so tests get known codes. */
export type RandomInt = (maxExclusive: number) => number;

/** A code of `length` decimal digits (leading zeros kept), from a CSPRNG by default. */
export function generateCode(length: number, random: RandomInt = (max) => randomInt(max)): string {
  if (!Number.isInteger(length) || length < MIN_CODE_LENGTH || length > MAX_CODE_LENGTH) {
    throw new RangeError(`code length must be ${MIN_CODE_LENGTH}–${MAX_CODE_LENGTH}, got ${length}`);
  }
  let code = '';
  for (let i = 0; i < length; i++) code += String(random(10));
  return code;
}

/**
 * HMAC-SHA256 of `${verificationId}:${code}` under the install's secret key. Keyed, because a
 * plain hash of a 6-digit code is reversed by trying a million codes; with the id in the
 * input, one verification's hash says nothing about another's.
 */
export function hashCode(key: Buffer, verificationId: string, code: string): Buffer {
  return createHmac('sha256', key).update(`${verificationId}:${code}`).digest();
}

/** Whether `code` is the one hashed into `storedHash`, compared in constant time. */
export function codeMatches(key: Buffer, verificationId: string, code: string, storedHash: Uint8Array): boolean {
  const candidate = hashCode(key, verificationId, code);
  const stored = Buffer.from(storedHash);
  return stored.length === candidate.length && timingSafeEqual(stored, candidate);
}

export interface StartVerificationInput {
  to: string;
  templateId?: string | null;
  codeLength?: number | null;
  ttlSeconds?: number | null;
  locale?: string | null;
}

export interface StartVerificationParams {
  templateId: string | null;
  codeLength: number;
  ttlSeconds: number;
  locale: string | null;
}

const startSchema = z.object({
  to: z.string().trim().min(1, 'is required'),
  templateId: z.string().min(1, 'must not be empty').nullish(),
  codeLength: z
    .int()
    .min(MIN_CODE_LENGTH, `must be ${MIN_CODE_LENGTH} to ${MAX_CODE_LENGTH}`)
    .max(MAX_CODE_LENGTH, `must be ${MIN_CODE_LENGTH} to ${MAX_CODE_LENGTH}`)
    .nullish(),
  ttlSeconds: z
    .int()
    .min(MIN_TTL_SECONDS, `must be ${MIN_TTL_SECONDS} to ${MAX_TTL_SECONDS} seconds`)
    .max(MAX_TTL_SECONDS, `must be ${MIN_TTL_SECONDS} to ${MAX_TTL_SECONDS} seconds`)
    .nullish(),
  locale: z
    .string()
    .regex(/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/, 'must be a language tag such as en, zh or zh-CN')
    .nullish(),
});

/** The start input's shape and bounds, with defaults applied; the number is checked apart. */
export function parseStartInput(input: StartVerificationInput): StartVerificationParams | ValidationError {
  const parsed = startSchema.safeParse(input);
  if (!parsed.success) return new ValidationError(toValidationIssues(parsed.error, ['input']));
  return {
    templateId: parsed.data.templateId ?? null,
    codeLength: parsed.data.codeLength ?? DEFAULT_CODE_LENGTH,
    ttlSeconds: parsed.data.ttlSeconds ?? DEFAULT_TTL_SECONDS,
    locale: parsed.data.locale ?? null,
  };
}

const codeSchema = z
  .string()
  .regex(/^\d+$/, 'must be digits only')
  .min(MIN_CODE_LENGTH, `must be ${MIN_CODE_LENGTH} to ${MAX_CODE_LENGTH} digits`)
  .max(MAX_CODE_LENGTH, `must be ${MIN_CODE_LENGTH} to ${MAX_CODE_LENGTH} digits`);

/**
 * A submitted code, trimmed. A malformed one (letters, too short or long for any code) is a
 * ValidationError and uses no attempt; a well-formed wrong one is an INCORRECT_CODE.
 */
export function parseSubmittedCode(code: string): string | ValidationError {
  const parsed = codeSchema.safeParse(code.trim());
  return parsed.success ? parsed.data : new ValidationError(toValidationIssues(parsed.error, ['input', 'code']));
}

/** What a check needs to know of the verification it is about. */
export interface VerificationState {
  status: VerificationStatus;
  attempts: number;
  maxAttempts: number;
  expiresAt: Date;
}

export type CheckDecision =
  | { outcome: 'APPROVED'; update: { status: 'APPROVED'; attempts: number; approvedAt: Date } }
  | {
      outcome: 'FAILED';
      reason: VerificationFailureReason;
      attemptsLeft: number;
      /** The change to store, if any (a counted attempt, or a status the clock decided). */
      update?: { status: VerificationStatus; attempts: number };
    };

/**
 * The outcome of a check of the account's latest verification to a number (none: undefined).
 * Expiry is judged before the code, so a late right code never approves and an expired
 * verification takes no attempts. Every compared code counts as an attempt, the right one
 * included; the last allowed wrong one ends the verification (MAX_ATTEMPTS_REACHED), and
 * checks after that say so. A verification that was approved or replaced is NOT_FOUND: a
 * code works once.
 */
export function decideCheck(state: VerificationState | undefined, matches: boolean, now: Date): CheckDecision {
  if (!state) return { outcome: 'FAILED', reason: 'NOT_FOUND', attemptsLeft: 0 };
  switch (state.status) {
    case 'APPROVED':
    case 'CANCELED':
      return { outcome: 'FAILED', reason: 'NOT_FOUND', attemptsLeft: 0 };
    case 'EXPIRED':
      return { outcome: 'FAILED', reason: 'EXPIRED', attemptsLeft: 0 };
    case 'MAX_ATTEMPTS_REACHED':
      return { outcome: 'FAILED', reason: 'MAX_ATTEMPTS_REACHED', attemptsLeft: 0 };
    case 'PENDING':
      break;
  }
  if (now.getTime() >= state.expiresAt.getTime()) {
    return { outcome: 'FAILED', reason: 'EXPIRED', attemptsLeft: 0, update: { status: 'EXPIRED', attempts: state.attempts } };
  }
  if (state.attempts >= state.maxAttempts) {
    return { outcome: 'FAILED', reason: 'MAX_ATTEMPTS_REACHED', attemptsLeft: 0, update: { status: 'MAX_ATTEMPTS_REACHED', attempts: state.attempts } };
  }
  const attempts = state.attempts + 1;
  if (matches) return { outcome: 'APPROVED', update: { status: 'APPROVED', attempts, approvedAt: now } };
  const attemptsLeft = state.maxAttempts - attempts;
  return {
    outcome: 'FAILED',
    reason: 'INCORRECT_CODE',
    attemptsLeft,
    update: { status: attemptsLeft === 0 ? 'MAX_ATTEMPTS_REACHED' : 'PENDING', attempts },
  };
}

/** Checks left to a verification as stored: none once it is no longer PENDING. */
export function attemptsLeftOf(state: Pick<VerificationState, 'status' | 'attempts' | 'maxAttempts'>): number {
  return state.status === 'PENDING' ? Math.max(0, state.maxAttempts - state.attempts) : 0;
}

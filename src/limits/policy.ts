// Frequency limits an account is held to: plain JSON data, so that an account's overrides can
// be stored in the database and validated with the zod schema below.
import { z } from 'zod';
import type { ValidationError } from '../domain/errors.js';
import { parseOrError } from '../domain/validation.js';

/**
 * Categories counted separately per recipient. The same words as a template's category; a
 * message with a plain body (no template) is counted under `LimitPolicy.plainBodyCategory`.
 */
export const limitCategories = ['OTP', 'NOTIFICATION', 'MARKETING'] as const;
export type LimitCategory = (typeof limitCategories)[number];

/**
 * "At most `max` within `perSeconds`". A window opens at the first message it counts and lasts
 * `perSeconds` (rate-limiter-flexible's fixed window), like Aliyun's "a day is the 24 hours
 * after", not a calendar day. Across a window boundary up to twice `max` can pass in a short
 * span; the shorter windows of the same rule set (per minute, per hour) bound that burst.
 */
export interface LimitWindow {
  max: number;
  perSeconds: number;
}

/** Per-API-key request rate: `max` per `perSeconds`, and when that is spent, a `burst` pool. */
export interface RequestRate extends LimitWindow {
  /** Extra requests allowed per `burst.perSeconds` once the sustained rate is spent; null = none. */
  burst: LimitWindow | null;
}

export interface LimitPolicy {
  /** Per recipient (E.164) and category; every window of a category must allow a send. [] = no limit. */
  recipient: Record<LimitCategory, LimitWindow[]>;
  /** Per recipient over every category together, as providers count a number. [] = no limit. */
  recipientTotal: LimitWindow[];
  /** The category a plain-body message (no template) is counted under. */
  plainBodyCategory: LimitCategory;
  /** Per API key, every GraphQL request. */
  requests: RequestRate;
  /** Messages per account, over all recipients. [] = no quota. */
  accountQuota: LimitWindow[];
}

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86_400;

/**
 * Defaults: as tight as the strictest common provider default, so that Herald refuses with
 * RATE_LIMITED before a provider refuses with its own code. Provider defaults (2024-2026 docs):
 * - Aliyun SMS: verification codes 1/min, 5/h, 10/day per signature and number; notifications
 *   and marketing 50/day per template and number; at most 40/day to one number in all. Its "day"
 *   is the 24 h before now.
 * - Tencent Cloud SMS: one identical message per number per 30 s; 10 per number per calendar day.
 * - Huawei Cloud: 15/min and 50/24 h per number; identical content 2 per 59 s, 5 per 59 min.
 * - Baidu Cloud: verification codes and notifications 3/min, 10/h, 50/day per number.
 *
 * Hence:
 * - OTP 1/min, 5/h, 10/day: Aliyun's verification-code default (also under Tencent's 1 per 30 s).
 * - NOTIFICATION 3/min, 10/h (Baidu's, the tightest), 40/day (Aliyun's per-number cap).
 * - MARKETING 1/day: providers allow up to 50/day per template, but repeated marketing draws
 *   complaints, and complaints get channels closed; one a day is deliberately tighter.
 * - 10/day per recipient over all categories: Tencent's per-number default, the tightest. It
 *   is what an account raises first when it only routes through more lenient providers.
 * - Plain bodies count as NOTIFICATION: providers treat any non-code, non-promotional text as a
 *   notification, and a separate, looser bucket would be a way around the template limits.
 * - 50 requests/s per key, plus a burst of 100 per 10 s: Herald's own protection (there is no
 *   provider limit to mirror), shaped like rate-limiter-flexible's BurstyRateLimiter.
 * - 100 000 messages per account per day: a runaway-script guard well above normal use, raised
 *   per account where needed (as Tencent's per-application daily sending limit).
 */
export const defaultLimitPolicy: LimitPolicy = deepFreeze({
  recipient: {
    OTP: [
      { max: 1, perSeconds: MINUTE },
      { max: 5, perSeconds: HOUR },
      { max: 10, perSeconds: DAY },
    ],
    NOTIFICATION: [
      { max: 3, perSeconds: MINUTE },
      { max: 10, perSeconds: HOUR },
      { max: 40, perSeconds: DAY },
    ],
    MARKETING: [{ max: 1, perSeconds: DAY }],
  },
  recipientTotal: [{ max: 10, perSeconds: DAY }],
  plainBodyCategory: 'NOTIFICATION',
  requests: { max: 50, perSeconds: 1, burst: { max: 100, perSeconds: 10 } },
  accountQuota: [{ max: 100_000, perSeconds: DAY }],
});

// The in-memory store deletes a window with setTimeout, whose delay tops out at 2^31 - 1 ms.
export const MAX_WINDOW_SECONDS = 2_147_483;
const MAX_WINDOWS = 5;

const limitWindowSchema = z.strictObject({
  max: z.int().min(1).max(1_000_000_000),
  perSeconds: z.int().min(1).max(MAX_WINDOW_SECONDS, `must be at most ${MAX_WINDOW_SECONDS} (about 24 days)`),
});

// Counters are keyed by window length, so two windows of one rule set with the same length
// would count every message twice.
const windowListSchema = z
  .array(limitWindowSchema)
  .max(MAX_WINDOWS)
  .superRefine((windows, ctx) => {
    const seen = new Set<number>();
    windows.forEach((w, index) => {
      if (seen.has(w.perSeconds)) {
        ctx.addIssue({ code: 'custom', path: [index, 'perSeconds'], message: `two windows of ${w.perSeconds} s; give each window its own length` });
      }
      seen.add(w.perSeconds);
    });
  });

// An omitted burst means none, in keeping with "a given field replaces the default wholesale".
const requestRateSchema = limitWindowSchema.extend({ burst: limitWindowSchema.nullable().default(null) });

/**
 * An account's overrides, as stored: every field optional; a given field replaces the default
 * wholesale (a category's window list is replaced, not merged). Unknown keys are rejected so
 * that a typo never silently leaves a default in force. A whole `LimitPolicy` is valid too.
 */
export const limitPolicyOverridesSchema = z.strictObject({
  recipient: z.strictObject(Object.fromEntries(limitCategories.map((c) => [c, windowListSchema.optional()])) as {
    [C in LimitCategory]: z.ZodOptional<typeof windowListSchema>;
  }).optional(),
  recipientTotal: windowListSchema.optional(),
  plainBodyCategory: z.enum(limitCategories).optional(),
  requests: requestRateSchema.optional(),
  accountQuota: windowListSchema.optional(),
});

/** Overrides as written (a parsed value is one too; `requests.burst` may be left out there). */
export type LimitPolicyOverrides = z.input<typeof limitPolicyOverridesSchema>;

/** Validates stored or submitted overrides; issues name the offending path (`recipient.OTP.0.max`). */
export function parseLimitPolicyOverrides(input: unknown): LimitPolicyOverrides | ValidationError {
  return parseOrError(limitPolicyOverridesSchema, input);
}

/** The defaults with an account's (already validated) overrides applied. */
export function resolveLimitPolicy(overrides: LimitPolicyOverrides = {}, base: LimitPolicy = defaultLimitPolicy): LimitPolicy {
  const recipient = Object.fromEntries(limitCategories.map((c) => [c, overrides.recipient?.[c] ?? base.recipient[c]]));
  // A copy, so that freezing the result never freezes the caller's objects.
  return deepFreeze(structuredClone({
    recipient: recipient as LimitPolicy['recipient'],
    recipientTotal: overrides.recipientTotal ?? base.recipientTotal,
    plainBodyCategory: overrides.plainBodyCategory ?? base.plainBodyCategory,
    requests: overrides.requests ? { ...overrides.requests, burst: overrides.requests.burst ?? null } : base.requests,
    accountQuota: overrides.accountQuota ?? base.accountQuota,
  }));
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

// How long an account keeps personal data, and what a policy change may say. Each period is a
// number of whole days, or null for "kept for ever". The defaults are those of an account that
// never set a policy: bodies (the content people wrote) go first, the records that make history
// and stats last; stats of deleted days stay (the rollup is kept, store/retention.ts).
import { z } from 'zod';
import { ValidationError } from './errors.js';
import { parseOrError } from './validation.js';

export interface RetentionPeriods {
  /** Message and reply bodies, variables and sealed parts are blanked after this many days. */
  bodyDays: number | null;
  /** Messages (with their events) and replies are deleted after this many days. */
  recordDays: number | null;
  /** Verifications, and the sealed codes of their messages, after this many days. */
  verificationDays: number | null;
  /** Outgoing-webhook deliveries and their attempts, after this many days. */
  webhookLogDays: number | null;
}

export const DEFAULT_RETENTION: RetentionPeriods = Object.freeze({
  bodyDays: 90,
  recordDays: 395, // 13 months: a year of history, compared month by month
  verificationDays: 30,
  webhookLogDays: 30,
});

/** Ten years: a longer period is a mistake (a year typed in days twice), not a policy. */
const MAX_DAYS = 3650;
const days = z.number().int('whole days').min(1, 'at least 1 day (null keeps it for ever)').max(MAX_DAYS, `at most ${MAX_DAYS} days`).nullable();

const policySchema = z
  .object({ bodyDays: days.optional(), recordDays: days.optional(), verificationDays: days.optional(), webhookLogDays: days.optional() })
  .strict();

export type RetentionChange = z.infer<typeof policySchema>;

/**
 * `current` with `change` applied (a field left out keeps its value; null keeps for ever), or
 * why not: a period under a day or over ten years, bodies kept longer than the records they
 * belong to (the blanking would never happen), or webhook logs kept longer than bodies.
 */
export function applyRetentionChange(current: RetentionPeriods, change: unknown): RetentionPeriods | ValidationError {
  const parsed = parseOrError(policySchema, change, ['input']);
  if (parsed instanceof ValidationError) return parsed;
  const next: RetentionPeriods = { ...current };
  for (const key of Object.keys(parsed) as (keyof RetentionPeriods)[]) if (parsed[key] !== undefined) next[key] = parsed[key];
  if (next.recordDays !== null && (next.bodyDays === null || next.bodyDays > next.recordDays)) {
    return new ValidationError([{ path: ['input', 'bodyDays'], message: `must not exceed recordDays (${next.recordDays}): records are deleted with their bodies` }]);
  }
  // Webhook payloads carry reply bodies: their log may not keep them longer than the replies do.
  if (next.bodyDays !== null && (next.webhookLogDays === null || next.webhookLogDays > next.bodyDays)) {
    return new ValidationError([{ path: ['input', 'webhookLogDays'], message: `must not exceed bodyDays (${next.bodyDays}): webhook payloads carry reply bodies` }]);
  }
  return next;
}

/** The moment before which rows are past `days` (null: never). */
export function retentionCutoff(now: Date, days: number | null): Date | null {
  return days === null ? null : new Date(now.getTime() - days * 86_400_000);
}

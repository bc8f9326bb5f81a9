// Budgets: an account's limit on what it spends per UTC day and per UTC month, in one currency.
// The rules without the database: checking an input, the bounds of a period, what a send adds to
// a budget, whether it fits, and which alert thresholds it crosses. store/budgets.ts applies them
// under a row lock, in the transaction that inserts the messages.
import { HeraldError, ValidationError, type ValidationIssue } from './errors.js';
import { formatMicros, parseMicros, type Money } from './money.js';

export const budgetPeriods = ['DAILY', 'MONTHLY'] as const;
export type BudgetPeriod = (typeof budgetPeriods)[number];

/** Percentages of the limit at which a budget.threshold event fires, once per period each. */
export const budgetThresholds = [80, 100] as const;
export type BudgetThreshold = (typeof budgetThresholds)[number];

export interface BudgetLimit {
  period: BudgetPeriod;
  currency: string;
  limitMicros: bigint;
}

export interface BudgetInput {
  period: BudgetPeriod;
  limit: string;
  currency: string;
}

/**
 * Checks a budget as given; every field's problem at once. The currency must be one that the
 * runtime's ISO 4217 table knows (three letters alone would take "ABC").
 */
export function parseBudgetInput(input: BudgetInput, path: string[]): BudgetLimit | ValidationError {
  const issues: ValidationIssue[] = [];
  if (!budgetPeriods.includes(input.period)) issues.push({ path: [...path, 'period'], message: `must be one of ${budgetPeriods.join(', ')}` });
  const limit = parseMicros(input.limit);
  if (!limit.ok) issues.push({ path: [...path, 'limit'], message: limit.message });
  const currency = input.currency.trim();
  if (!isKnownCurrency(currency)) {
    issues.push({ path: [...path, 'currency'], message: `must be an ISO 4217 currency code in upper case, such as USD; found ${JSON.stringify(input.currency)}` });
  }
  if (issues.length || !limit.ok) return new ValidationError(issues);
  return { period: input.period, currency, limitMicros: limit.micros };
}

let currencies: ReadonlySet<string> | undefined;
export function isKnownCurrency(code: string): boolean {
  currencies ??= new Set(Intl.supportedValuesOf('currency'));
  return /^[A-Z]{3}$/.test(code) && currencies.has(code);
}

/** The period holding `at`: its first instant and the next period's (when the budget resets). UTC. */
export function periodBounds(period: BudgetPeriod, at: Date): { start: Date; resetsAt: Date } {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  if (period === 'MONTHLY') return { start: new Date(Date.UTC(y, m, 1)), resetsAt: new Date(Date.UTC(y, m + 1, 1)) };
  const d = at.getUTCDate();
  return { start: new Date(Date.UTC(y, m, d)), resetsAt: new Date(Date.UTC(y, m, d + 1)) };
}

/** What a send adds to a budget in `currency`: the sum of its priced messages, and how many it cannot count. */
export interface SpendIncrement {
  micros: bigint;
  /** Messages without an estimated cost, or with one in another currency. */
  uncounted: number;
}

export function spendIn(currency: string, costs: readonly (Money | null)[]): SpendIncrement {
  let micros = 0n;
  let uncounted = 0;
  for (const cost of costs) {
    if (cost && cost.currency === currency) micros += cost.micros;
    else uncounted++;
  }
  return { micros, uncounted };
}

/**
 * Whether adding `add` keeps the budget within its limit. A send that adds nothing (every
 * message unpriced) always fits, even when a lowered limit is already passed.
 */
export function fitsBudget(spentMicros: bigint, add: bigint, limitMicros: bigint): boolean {
  return add === 0n || spentMicros + add <= limitMicros;
}

/** Thresholds newly reached by spending `after` (not yet notified this period), lowest first. */
export function thresholdsReached(after: bigint, limitMicros: bigint, notified: Readonly<Record<BudgetThreshold, boolean>>): BudgetThreshold[] {
  return budgetThresholds.filter((t) => !notified[t] && after * 100n >= limitMicros * BigInt(t));
}

/** A send refused because it would take a budget over its limit; nothing of it was stored. */
export class BudgetExceededError extends HeraldError {
  readonly code = 'BUDGET_EXCEEDED';
  constructor(
    readonly period: BudgetPeriod,
    readonly spent: Money,
    readonly limit: Money,
    /** What the refused send would have added. */
    readonly requested: Money,
    readonly resetsAt: Date,
  ) {
    super(
      `the ${period.toLowerCase()} budget of ${formatMicros(limit.micros)} ${limit.currency} would be exceeded: ` +
        `${formatMicros(spent.micros)} spent, this send adds ${formatMicros(requested.micros)}; it resets at ${resetsAt.toISOString()}`,
    );
  }
}

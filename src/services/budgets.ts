// Budgets: ADMIN sets a daily and a monthly limit per account; every send path (sendMessage,
// sendMessages, keyword replies, verification codes) asks the guard for the costs of what it is
// about to insert and charges them in the transaction that inserts it. A charge that would take
// a budget over its limit refuses the send (BudgetExceededError) and the transaction rolls back,
// so nothing is stored or submitted. What counts is the intake estimate: the cost sendMessages
// answers (services/cost-estimate.ts), in the budget's currency. docs/budgets.md has the rules.
import { recordAudit, type AuditActor } from './audit.js';
import { formatMicros } from '../domain/money.js';
import { randomUUID } from 'node:crypto';
import {
  BudgetExceededError,
  fitsBudget,
  parseBudgetInput,
  periodBounds,
  spendIn,
  thresholdsReached,
  type BudgetInput,
  type BudgetLimit,
  type BudgetPeriod,
} from '../domain/budgets.js';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import type { Money } from '../domain/money.js';
import { budgetThresholdPayload, type BudgetThresholdEvent } from '../outgoing-webhooks/events.js';
import type { Tx } from '../store/db-client.js';
import { spendKeyText, type BudgetStore, type SpendKey, type SpendRow } from '../store/budgets.js';
import { estimateEach, type EstimateDeps, type EstimatedMessage } from './cost-estimate.js';

const THRESHOLD_EVENT = 'budget.threshold';

/** The intake estimates of the messages a send is about to insert, for an account with budgets. */
export interface SendCosts {
  /** Per message, in input order; null where no price is known. */
  costs: (Money | null)[];
}

export interface BudgetGuard {
  /**
   * The costs to charge, or undefined when the account has no budget: then the send takes its
   * usual path, and this cost no query (the budgets are cached until a change is announced).
   * `messages` is called only for an account with budgets (it may need a read: a template's name).
   */
  costsFor(accountId: string, messages: () => Promise<readonly EstimatedMessage[]> | readonly EstimatedMessage[]): Promise<SendCosts | undefined>;
  /**
   * Adds the costs to every budget of the account in `tx`, which must also insert the messages,
   * and writes a budget.threshold event for each threshold reached. A BudgetExceededError when
   * one budget would pass its limit: the caller must roll `tx` back.
   */
  charge(tx: Tx, accountId: string, costs: SendCosts): Promise<BudgetExceededError | undefined>;
  /**
   * After a refused send rolled back: the budget is exhausted, which its 100 % event says once
   * (the refusal itself leaves the spend short of the limit, so the charge never reached it).
   */
  refused(accountId: string, error: BudgetExceededError): Promise<void>;
}

export interface BudgetGuardDeps extends Omit<EstimateDeps, 'routing'> {
  /** The routing in force now (it changes at run time). */
  routing: () => EstimateDeps['routing'];
  budgets: BudgetStore;
  prisma: { $transaction: <T>(work: (tx: Tx) => Promise<T>) => Promise<T> };
}

export function createBudgetGuard(deps: BudgetGuardDeps, now: () => Date = () => new Date()): BudgetGuard {
  return {
    async costsFor(accountId, messages) {
      if ((await deps.budgets.cached(accountId)).length === 0) return undefined;
      return { costs: await estimateEach({ ...deps, routing: deps.routing() }, accountId, await messages()) };
    },

    async charge(tx, accountId, { costs }) {
      const at = now();
      // Read again inside the transaction: a limit changed a moment ago on another instance counts.
      for (const budget of await deps.budgets.list(tx, accountId)) {
        const add = spendIn(budget.currency, costs);
        const { key, resetsAt } = spendKey(accountId, budget, at);
        const row = await deps.budgets.lockSpend(tx, key);
        if (!fitsBudget(row.spentMicros, add.micros, budget.limitMicros)) {
          return new BudgetExceededError(budget.period, money(row.spentMicros, budget), money(budget.limitMicros, budget), money(add.micros, budget), resetsAt);
        }
        const spentMicros = row.spentMicros + add.micros;
        const reached = thresholdsReached(spentMicros, budget.limitMicros, { 80: row.notified80, 100: row.notified100 });
        await deps.budgets.saveSpend(tx, key, {
          spentMicros,
          uncounted: row.uncounted + add.uncounted,
          notified80: row.notified80 || reached.includes(80),
          notified100: row.notified100 || reached.includes(100),
        });
        for (const threshold of reached) {
          await writeThresholdEvent(tx, deps.budgets, accountId, { period: budget.period, threshold, spent: money(spentMicros, budget), limit: money(budget.limitMicros, budget), resetsAt }, at);
        }
      }
      return undefined;
    },

    async refused(accountId, error) {
      const at = now();
      const budget = { period: error.period, currency: error.limit.currency, limitMicros: error.limit.micros };
      const { key, resetsAt } = spendKey(accountId, budget, at);
      await deps.prisma.$transaction(async (tx) => {
        const row = await deps.budgets.lockSpend(tx, key);
        if (row.notified100) return;
        await deps.budgets.saveSpend(tx, key, { ...row, notified100: true });
        await writeThresholdEvent(tx, deps.budgets, accountId, { period: budget.period, threshold: 100, spent: money(row.spentMicros, budget), limit: error.limit, resetsAt }, at);
      });
    },
  };
}

function spendKey(accountId: string, budget: BudgetLimit, at: Date): { key: SpendKey; resetsAt: Date } {
  const { start, resetsAt } = periodBounds(budget.period, at);
  return { key: { accountId, period: budget.period, periodStart: start, currency: budget.currency }, resetsAt };
}

const money = (micros: bigint, budget: Pick<BudgetLimit, 'currency'>): Money => ({ micros, currency: budget.currency });

async function writeThresholdEvent(tx: Tx, budgets: BudgetStore, accountId: string, event: BudgetThresholdEvent, at: Date): Promise<void> {
  const endpoints = await budgets.subscribedEndpoints(tx, accountId, THRESHOLD_EVENT);
  if (endpoints.length === 0) return;
  const eventId = `msg_${randomUUID().replaceAll('-', '')}`;
  const payload = budgetThresholdPayload(event, at);
  await budgets.writeDeliveries(tx, endpoints.map((endpointId) => ({ endpointId, eventId, eventType: THRESHOLD_EVENT, payload })));
}

/** A budget with what its current period has spent so far. */
export interface BudgetStatus extends BudgetLimit {
  spentMicros: bigint;
  /** Messages accepted this period that the budget could not count (no price, or another currency). */
  uncounted: number;
  periodStart: Date;
  resetsAt: Date;
  updatedAt: Date;
}

/** The account's budgets with their current periods' spend (two queries). */
export async function listBudgets(budgets: BudgetStore, db: Parameters<BudgetStore['list']>[0], accountId: string, at = new Date()): Promise<BudgetStatus[]> {
  const rows = await budgets.list(db, accountId);
  const keyed = rows.map((row) => ({ row, ...spendKey(accountId, row, at) }));
  const spends = await budgets.spends(accountId, keyed.map((k) => k.key));
  return keyed.map(({ row, key, resetsAt }) => {
    const spend: SpendRow | undefined = spends.get(spendKeyText(key));
    return { ...row, spentMicros: spend?.spentMicros ?? 0n, uncounted: spend?.uncounted ?? 0, periodStart: key.periodStart, resetsAt };
  });
}

/** Sets the budget of a period (replacing its limit and currency); bad input changes nothing. */
export async function setBudget(budgets: BudgetStore, accountId: string, input: BudgetInput, audit?: AuditActor): Promise<BudgetPeriod | ValidationError> {
  const parsed = parseBudgetInput(input, ['input']);
  if (parsed instanceof ValidationError) return parsed;
  await budgets.set(accountId, parsed, audit && ((tx, before, after) => recordAudit(tx, audit, { action: 'budget.set', subjectId: parsed.period, before: before && shownBudget(before), after: shownBudget(after) })));
  return parsed.period;
}

export async function removeBudget(budgets: BudgetStore, accountId: string, period: BudgetPeriod, audit?: AuditActor): Promise<BudgetPeriod | NotFoundError> {
  const removed = await budgets.remove(accountId, period, audit && ((tx, before) => recordAudit(tx, audit, { action: 'budget.remove', subjectId: period, before: shownBudget(before) })));
  return removed ? period : new NotFoundError(`${period.toLowerCase()} budget`);
}

/** What the audit log keeps of a budget. */
const shownBudget = (b: { period: string; currency: string; limitMicros: bigint }) => ({ period: b.period, currency: b.currency, limit: formatMicros(b.limitMicros) });

// Budgets (ADMIN only): an account's daily and monthly spending limits, what each current period
// has spent, and the error a send over budget answers. Rules in src/domain/budgets.ts, writes and
// the charge in src/services/budgets.ts; docs/budgets.md.
import { auditActorOf } from './audit-log.js';
import { BudgetExceededError, budgetPeriods } from '../domain/budgets.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../domain/errors.js';
import { formatMicros, type Money } from '../domain/money.js';
import { listBudgets, removeBudget, setBudget, type BudgetStatus } from '../services/budgets.js';
import { builder } from './builder.js';
import { ErrorInterface } from './errors.js';
import { MoneyRef } from './message-routing.js';
import { unwrap } from './unwrap.js';

const BudgetPeriodEnum = builder.enumType('BudgetPeriod', {
  description: 'DAILY: from 00:00 UTC to the next. MONTHLY: from the first of the month, 00:00 UTC, to the next first.',
  values: budgetPeriods,
});

const asMoney = (m: Money) => ({ amount: formatMicros(m.micros), currency: m.currency });

builder.objectType(BudgetExceededError, {
  name: 'BudgetExceededError',
  description: 'The send would take a budget of the account over its limit. Nothing of it was stored or sent.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    period: t.field({ type: BudgetPeriodEnum, resolve: (e) => e.period }),
    spent: t.field({ type: MoneyRef, description: 'Spent in the current period before this send.', resolve: (e) => asMoney(e.spent) }),
    limit: t.field({ type: MoneyRef, resolve: (e) => asMoney(e.limit) }),
    requested: t.field({ type: MoneyRef, description: "This send's estimated cost in the budget's currency.", resolve: (e) => asMoney(e.requested) }),
    resetsAt: t.field({ type: 'DateTime', description: 'When the period ends and the spend starts again from zero.', resolve: (e) => e.resetsAt }),
  }),
});

const Budget = builder.objectRef<BudgetStatus>('Budget').implement({
  description: "A spending limit of the account for one period, with what the current period has spent (intake estimates in the budget's currency).",
  fields: (t) => ({
    period: t.field({ type: BudgetPeriodEnum, resolve: (b) => b.period }),
    limit: t.field({ type: MoneyRef, resolve: (b) => asMoney({ micros: b.limitMicros, currency: b.currency }) }),
    spent: t.field({ type: MoneyRef, description: 'Spent in the current period since the budget was set.', resolve: (b) => asMoney({ micros: b.spentMicros, currency: b.currency }) }),
    uncountedMessages: t.exposeInt('uncounted', {
      description: "Messages accepted in the current period that the budget could not count: no known price, or a price in another currency.",
    }),
    periodStart: t.expose('periodStart', { type: 'DateTime' }),
    resetsAt: t.expose('resetsAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the limit was last set.' }),
  }),
});

const SetBudgetInput = builder.inputType('SetBudgetInput', {
  fields: (t) => ({
    period: t.field({ type: BudgetPeriodEnum, required: true }),
    limit: t.string({ required: true, description: 'A decimal such as "250" or "12.50": not negative, at most 6 decimal places, no exponent. "0" refuses every priced send.' }),
    currency: t.string({ required: true, description: 'ISO 4217 (USD). Only estimated costs in this currency count.' }),
  }),
});

builder.queryField('budgets', (t) =>
  t.field({
    type: [Budget],
    description: "ADMIN only. The account's budgets (DAILY first) with their current periods' spend.",
    authScopes: { admin: true },
    resolve: (_root, _args, ctx) => listBudgets(ctx.store.budgets, ctx.prisma, ctx.auth.accountId),
  }),
);

builder.mutationFields((t) => ({
  setBudget: t.field({
    type: Budget,
    description:
      "ADMIN only. Sets the budget of a period, replacing its limit and currency. The current period's spend is kept (in the same currency); it counts the sends made while a budget is set.",
    authScopes: { admin: true },
    errors: { types: [ValidationError, ForbiddenError] },
    args: { input: t.arg({ type: SetBudgetInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const period = unwrap(await setBudget(ctx.store.budgets, ctx.auth.accountId, input, await auditActorOf(ctx)));
      return (await listBudgets(ctx.store.budgets, ctx.prisma, ctx.auth.accountId)).find((b) => b.period === period)!;
    },
  }),
  removeBudget: t.field({
    type: BudgetPeriodEnum,
    description: 'ADMIN only. Removes the budget of a period; returns the period. Sends are no longer limited or counted for it.',
    authScopes: { admin: true },
    errors: { types: [NotFoundError, ForbiddenError] },
    args: { period: t.arg({ type: BudgetPeriodEnum, required: true }) },
    resolve: async (_root, args, ctx) => unwrap(await removeBudget(ctx.store.budgets, ctx.auth.accountId, args.period, await auditActorOf(ctx))),
  }),
}));

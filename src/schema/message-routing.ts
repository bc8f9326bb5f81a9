// What a message cost and why it went where it went: Message.estimatedCost and Message.routing,
// as the dispatcher recorded them when a provider took it (dispatch/record-outcome.ts), and
// Message.actualCost, as the provider reported it afterwards (dispatch/actual-cost.ts).
import { formatMicros } from '../domain/money.js';
import type { RoutingRecord } from '../domain/routing-strategy.js';
import { ROUTING_STRATEGIES } from '../config/routes.js';
import { builder } from './builder.js';
import { Message } from './messages.js';

export const MoneyRef = builder.objectRef<{ amount: string; currency: string }>('Money').implement({
  description: 'An exact amount: a decimal string ("0.0158"), never a float, and its ISO 4217 currency.',
  fields: (t) => ({
    amount: t.exposeString('amount'),
    currency: t.exposeString('currency'),
  }),
});

const RoutingStrategyEnum = builder.enumType('RoutingStrategy', {
  description:
    "How a route picks its first provider: PRIORITY (the route's order), WEIGHTED (by weight), LEAST_COST (the cheapest meeting the route's quality floors), FASTEST (the lowest p95 time to DELIVERED meeting the delivery-rate floor).",
  values: ROUTING_STRATEGIES,
});

type Candidate = RoutingRecord['candidates'][number];

const RoutingCandidateRef = builder.objectRef<Candidate>('RoutingCandidate').implement({
  description: "A provider the route could use, as routing saw it at that moment: its cost for this message and its measured quality in the destination's country.",
  fields: (t) => ({
    provider: t.exposeString('provider'),
    estimatedCost: t.field({ type: MoneyRef, nullable: true, description: 'Unknown (no price for the destination): null.', resolve: (c) => c.cost }),
    deliveryRate: t.exposeFloat('deliveryRate', { nullable: true, description: 'Over the last hour (the last 24 h when the hour had no outcome).' }),
    deliveryP95Ms: t.exposeFloat('p95Ms', { nullable: true }),
    samples: t.exposeInt('samples', { description: 'Outcomes the figures rest on.' }),
    eligible: t.exposeBoolean('eligible', { description: 'Whether the strategy could judge it and it met the floors.' }),
    reason: t.exposeString('reason', { nullable: true, description: 'Why it was not eligible.' }),
  }),
});

const RoutingDecisionRef = builder.objectRef<RoutingRecord>('RoutingDecision').implement({
  description: 'Why the message went to its provider.',
  fields: (t) => ({
    route: t.exposeString('route', { nullable: true, description: "The SMS_ROUTES route's name; null for an unnamed route or the SMS_PROVIDERS order." }),
    strategy: t.field({ type: RoutingStrategyEnum, resolve: (r) => r.strategy }),
    summary: t.exposeString('summary', { description: 'One readable line: "LEAST_COST: aliyun; cheapest meeting the floors (0.045 CNY)".' }),
    explored: t.exposeBoolean('explored', { description: "True when the route's exploration share sent it to another provider than the strategy's choice." }),
    chosen: t.exposeString('chosen', { description: 'The provider that took it.' }),
    candidates: t.field({ type: [RoutingCandidateRef], resolve: (r) => r.candidates, description: 'In the order they were to be tried.' }),
  }),
});

builder.objectFields(Message, (t) => ({
  estimatedCost: t.field({
    type: MoneyRef,
    nullable: true,
    description: "segments × the price of the provider that took it (the account's prices); null before a provider took it or when no price is known.",
    resolve: (m) => (m.estimatedCostMicros !== null && m.costCurrency ? { amount: formatMicros(m.estimatedCostMicros), currency: m.costCurrency } : null),
  }),
  actualCost: t.field({
    type: MoneyRef,
    nullable: true,
    description:
      'What the provider reported charging for it (Twilio: the message\'s price), fetched after the final status; null until the provider has rated it, and always for providers that report no cost (docs/providers.md, "Prices and cost").',
    resolve: (m) => (m.actualCostMicros !== null && m.actualCostCurrency ? { amount: formatMicros(m.actualCostMicros), currency: m.actualCostCurrency } : null),
  }),
  routing: t.field({
    type: RoutingDecisionRef,
    nullable: true,
    description: 'Why it went where it went; null before a provider took it.',
    resolve: (m) => (m.routing as RoutingRecord | null) ?? null,
  }),
}));

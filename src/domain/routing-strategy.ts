// How a route orders its providers for one message, and why: the decision a message records.
// Pure: the facts (each provider's price for the destination, its measured quality there) are
// gathered by the caller; `random` is injected so tests are deterministic.
//
// Strategies (a route's `strategy`, config/routes.ts):
// - PRIORITY: the route's list order.
// - WEIGHTED: a provider with a weight goes first in proportion to it (providers/routing.ts).
// - LEAST_COST: the cheapest provider whose measured quality meets the route's floors. A provider
//   without enough measurements yet, or without a known price, cannot be judged: it follows the
//   judged ones and gets the exploration share.
// - FASTEST: the provider with the lowest p95 time to DELIVERED that meets the delivery-rate floor.
// In every strategy the rest of the list follows, in the route's order, as failover.
//
// Exploration: with probability `exploration`, a provider other than the choice goes first
// (one not yet measured enough, if there is one), so that quality stays measured for providers
// that are not chosen and a recovered provider can win its traffic back.
import type { RoutingStrategy, StrategySettings } from '../config/routes.js';
import { formatMicros, type Money } from './money.js';

/** What routing knows of one provider for this destination. */
export interface ProviderFacts {
  provider: string;
  /** Estimated cost of this message with this provider; null when no price is known. */
  cost: Money | null;
  /** Delivered / (delivered + failed + missing), over the measuring window; null without data. */
  deliveryRate: number | null;
  /** p95 seconds-to-DELIVERED in milliseconds; null without data. */
  p95Ms: number | null;
  /** Messages the measurements rest on (submitted in the window). */
  samples: number;
}

export interface CandidateVerdict extends ProviderFacts {
  /** Whether the strategy could judge it and it met the floors. */
  eligible: boolean;
  /** Why not, when it is not eligible. */
  reason?: string;
}

export interface RoutingDecision {
  strategy: RoutingStrategy;
  /** Providers in the order to try them. */
  order: string[];
  /** True when exploration put `order[0]` first instead of the strategy's choice. */
  explored: boolean;
  /** One line a person can read: what was chosen and why. */
  summary: string;
  candidates: CandidateVerdict[];
}

/** Orders `providers` (the route's list, already filtered to those able to carry the message). */
export function decideRoute(settings: StrategySettings, facts: readonly ProviderFacts[], random: () => number = Math.random): RoutingDecision {
  const providers = facts.map((f) => f.provider);
  const verdicts = facts.map((f) => judge(settings, f));
  let order: string[];
  let why: string;
  switch (settings.strategy) {
    case 'PRIORITY':
      order = [...providers];
      why = 'route order';
      break;
    case 'WEIGHTED':
      order = orderByWeight(providers, settings.weights, random);
      why = 'weighted pick';
      break;
    case 'LEAST_COST': {
      const judged = verdicts.filter((v) => v.eligible);
      const currency = judged[0]?.cost?.currency;
      // Prices in other currencies than the first judged one are not compared (no exchange rates).
      const ranked = judged.filter((v) => v.cost?.currency === currency).sort((a, b) => compareBig(a.cost!.micros, b.cost!.micros));
      order = [...ranked.map((v) => v.provider), ...providers.filter((p) => !ranked.some((v) => v.provider === p))];
      why = ranked.length ? `cheapest meeting the floors (${formatMoney(ranked[0]!.cost!)})` : 'no provider could be judged: route order';
      break;
    }
    case 'FASTEST': {
      const ranked = verdicts.filter((v) => v.eligible).sort((a, b) => a.p95Ms! - b.p95Ms!);
      order = [...ranked.map((v) => v.provider), ...providers.filter((p) => !ranked.some((v) => v.provider === p))];
      why = ranked.length ? `fastest meeting the floors (p95 ${Math.round(ranked[0]!.p95Ms!)} ms)` : 'no provider could be judged: route order';
      break;
    }
  }
  const explored = explore(settings, verdicts, order, random);
  if (explored) order = [explored, ...order.filter((p) => p !== explored)];
  const summary = `${settings.strategy}: ${order[0] ?? 'none'}${explored ? ' (exploration)' : ''}; ${why}`;
  return { strategy: settings.strategy, order, explored: explored !== undefined, summary, candidates: verdicts };
}

/** Whether a provider can be judged by the strategy and meets the route's floors. */
function judge(settings: StrategySettings, f: ProviderFacts): CandidateVerdict {
  if (settings.strategy === 'PRIORITY' || settings.strategy === 'WEIGHTED') return { ...f, eligible: true };
  const floors = settings.floors ?? {};
  const fail = (reason: string): CandidateVerdict => ({ ...f, eligible: false, reason });
  if (f.samples < settings.minSamples || f.deliveryRate === null) return fail(`not enough measurements (${f.samples} of ${settings.minSamples})`);
  if (floors.deliveryRate !== undefined && f.deliveryRate < floors.deliveryRate) {
    return fail(`delivery rate ${percent(f.deliveryRate)} below the floor ${percent(floors.deliveryRate)}`);
  }
  if (floors.p95Ms !== undefined && (f.p95Ms === null || f.p95Ms > floors.p95Ms)) {
    return fail(f.p95Ms === null ? 'no time to delivery measured' : `p95 ${Math.round(f.p95Ms)} ms above the floor ${floors.p95Ms} ms`);
  }
  if (settings.strategy === 'LEAST_COST' && f.cost === null) return fail('no price known for this destination');
  if (settings.strategy === 'FASTEST' && f.p95Ms === null) return fail('no time to delivery measured');
  return { ...f, eligible: true };
}

/** The provider exploration puts first this time, or undefined. Prefers unmeasured ones. */
function explore(settings: StrategySettings, verdicts: readonly CandidateVerdict[], order: readonly string[], random: () => number): string | undefined {
  if (order.length < 2 || settings.exploration <= 0 || random() >= settings.exploration) return undefined;
  const others = order.slice(1);
  const unmeasured = others.filter((p) => (verdicts.find((v) => v.provider === p)?.samples ?? 0) < settings.minSamples);
  const pool = unmeasured.length > 0 ? unmeasured : others;
  return pool[Math.min(pool.length - 1, Math.floor(random() * pool.length))];
}

/** `providers` with one weighted provider first, picked in proportion to its weight; the rest in list order. */
export function orderByWeight(providers: readonly string[], weights: Record<string, number> | undefined, random: () => number): string[] {
  const weighted = providers.filter((p) => weights?.[p]);
  if (!weights || weighted.length === 0) return [...providers];
  const total = weighted.reduce((sum, p) => sum + weights[p]!, 0);
  let point = random() * total;
  let first = weighted[weighted.length - 1]!;
  for (const p of weighted) {
    point -= weights[p]!;
    if (point < 0) {
      first = p;
      break;
    }
  }
  return [first, ...providers.filter((p) => p !== first)];
}

function compareBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const percent = (rate: number) => `${(rate * 100).toFixed(1)} %`;

/** "0.0158 USD". */
export function formatMoney(money: Money): string {
  return `${formatMicros(money.micros)} ${money.currency}`;
}

/** What a message stores of its routing (Message.routing, JSON): plain values, amounts as exact decimals. */
export interface RoutingRecord {
  route: string | null;
  strategy: RoutingStrategy;
  summary: string;
  explored: boolean;
  /** The provider that took the message. */
  chosen: string;
  candidates: {
    provider: string;
    cost: { amount: string; currency: string } | null;
    deliveryRate: number | null;
    p95Ms: number | null;
    samples: number;
    eligible: boolean;
    reason: string | null;
  }[];
}

export function routingRecord(decision: RoutingDecision & { route: string | null }, chosen: string): RoutingRecord {
  return {
    route: decision.route,
    strategy: decision.strategy,
    summary: decision.summary,
    explored: decision.explored,
    chosen,
    // In the order they were to be tried.
    candidates: [...decision.candidates].sort((a, b) => decision.order.indexOf(a.provider) - decision.order.indexOf(b.provider)).map((c) => ({
      provider: c.provider,
      cost: c.cost && { amount: formatMicros(c.cost.micros), currency: c.cost.currency },
      deliveryRate: c.deliveryRate,
      p95Ms: c.p95Ms,
      samples: c.samples,
      eligible: c.eligible,
      reason: c.reason ?? null,
    })),
  };
}

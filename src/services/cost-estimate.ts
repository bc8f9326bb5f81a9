// The estimated cost of messages just accepted (sendMessages answers it): each priced with the
// provider its route would choose now, by the route's strategy without exploration (a WEIGHTED
// route: its first weighted provider), from the account's prices and the measured quality. The
// provider actually chosen at dispatch, and so the cost each message records, may differ.
import type { RoutingConfig } from '../config/routes.js';
import { sumByCurrency, type Money } from '../domain/money.js';
import { decideRoute } from '../domain/routing-strategy.js';
import { routeOf, type RoutableMessage } from '../providers/routing.js';
import type { Store } from '../store/store.js';
import type { RouteFacts } from './route-facts.js';

export interface EstimateDeps {
  routing: RoutingConfig;
  routeFacts: RouteFacts;
  prices: Store['prices'];
}

export interface EstimatedMessage extends RoutableMessage {
  segments: number;
}

/** Per-currency totals (none when the account has no prices, or no message has a known price). */
export async function estimateTotal(deps: EstimateDeps, accountId: string, messages: readonly EstimatedMessage[]): Promise<Money[]> {
  return totalOf(await estimateEach(deps, accountId, messages));
}

/** Per-currency totals of estimates made by estimateEach (unknown prices left out). */
export function totalOf(costs: readonly (Money | null)[]): Money[] {
  return [...sumByCurrency(costs.filter((c): c is Money => c !== null))].map(([currency, micros]) => ({ currency, micros }));
}

/** Each message's estimated cost, in input order; null where no price is known. */
export async function estimateEach(deps: EstimateDeps, accountId: string, messages: readonly EstimatedMessage[]): Promise<(Money | null)[]> {
  if (messages.length === 0 || (await deps.prices.listForAccount(accountId)).length === 0) return messages.map(() => null);
  const costs: (Money | null)[] = [];
  for (const message of messages) {
    const route = routeOf(deps.routing, message);
    const facts = await deps.routeFacts({ accountId, to: message.to, segments: message.segments }, route.providers, route.settings.minSamples);
    const decision = decideRoute({ ...route.settings, exploration: 0 }, facts, () => 0);
    costs.push(facts.find((f) => f.provider === decision.order[0])?.cost ?? null);
  }
  return costs;
}

// Which providers may carry a message. Pure: `routeOf()` gives the matching route's providers and
// strategy; the pool's choose() orders them (domain/routing-strategy.ts) and the dispatcher walks
// the list (failover) past providers whose circuit is open or that did not take the message.
// `candidates()` is the same order without measurements (PRIORITY and WEIGHTED only).
//
// The routes come from SMS_ROUTES (config/routes.ts): the first route whose `match` fits wins;
// without one, the order is SMS_PROVIDERS.
import { strategyOf, type Route, type RoutingConfig, type StrategySettings } from '../config/routes.js';
import { countryOfNumber } from '../domain/phone.js';
import { orderByWeight } from '../domain/routing-strategy.js';

export { orderByWeight };

/** What routing looks at in a message. */
export interface RoutableMessage {
  to: string;
  templateName?: string | null;
  category?: string | null;
}

/** The route that fits, or undefined for the default order. */
export function matchRoute(config: RoutingConfig, message: RoutableMessage): Route | undefined {
  let country: string | undefined | null = null; // parsed once, only if some route asks
  return config.routes.find((route) => {
    const match = route.match;
    if (!match) return true;
    if (match.prefixes && !match.prefixes.some((p) => message.to.startsWith(p))) return false;
    if (match.templates && !(message.templateName && match.templates.includes(message.templateName))) return false;
    if (match.categories && !(message.category && (match.categories as string[]).includes(message.category))) return false;
    if (match.countries) {
      if (country === null) country = countryOfNumber(message.to);
      if (!country || !match.countries.includes(country)) return false;
    }
    return true;
  });
}

/** Without a matching route: SMS_PROVIDERS, tried in order. */
const IN_ORDER: StrategySettings = { strategy: 'PRIORITY', exploration: 0, minSamples: 1 };

/**
 * What routing works from for this message: the matching route's name (null without one), its
 * strategy settings, and its providers in list order (SMS_PROVIDERS without a route). The dispatcher,
 * previewMessage's costs and sendMessages' estimate all start here.
 */
export function routeOf(config: RoutingConfig, message: RoutableMessage): { name: string | null; settings: StrategySettings; providers: readonly string[] } {
  const route = matchRoute(config, message);
  return route ? { name: route.name ?? null, settings: strategyOf(route), providers: route.providers } : { name: null, settings: IN_ORDER, providers: config.defaultOrder };
}

/**
 * Provider names in the order to try them for this message. `random` (0 ≤ r < 1) picks the
 * weighted first choice; injected so tests are deterministic.
 */
export function candidates(config: RoutingConfig, message: RoutableMessage, random: () => number = Math.random): string[] {
  const route = matchRoute(config, message);
  if (!route) return config.defaultOrder;
  return orderByWeight(route.providers, route.weights, random);
}

// Which providers may carry a message, in the order to try them. Pure: the dispatcher asks
// `candidates()` for each message, then walks the list (failover) past providers whose circuit
// is open or that did not take the message.
//
// The routes come from SMS_ROUTES (config/routes.ts): the first route whose `match` fits wins;
// without one, the order is SMS_PROVIDERS.
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { Route, RoutingConfig } from '../config/routes.js';
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
      if (country === null) country = parsePhoneNumberFromString(message.to)?.country;
      if (!country || !match.countries.includes(country)) return false;
    }
    return true;
  });
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

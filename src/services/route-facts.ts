// What a route's strategy weighs for one message (domain/routing-strategy.ts): each provider's
// cost for it (the account's price for the destination × segments) and its measured quality in
// the destination's country. Both come from memory: the account's price list is cached until a
// change is announced (store/prices.ts), the quality figures for two seconds (store/
// provider-quality.ts), so routing costs no query per message. Quality is judged over the
// shortest window holding the route's minSamples outcomes (domain/provider-quality.ts judgedWindow).
import { costOf, destinationOf, findApplicablePrice } from '../domain/prices.js';
import { DEFAULT_MIN_SAMPLES } from '../config/routes.js';
import { judgedWindow, outcomesOf, type ProviderCountryQuality } from '../domain/provider-quality.js';
import type { ProviderFacts } from '../domain/routing-strategy.js';
import type { Store } from '../store/store.js';

/** The message as routing sees it. */
export interface RoutedMessage {
  accountId: string;
  to: string;
  segments: number;
}

/** `minSamples`: the route's (strategyOf); it picks the window each provider is judged by. */
export type RouteFacts = (message: RoutedMessage, providers: readonly string[], minSamples?: number) => Promise<ProviderFacts[]>;

export function createRouteFacts(store: Pick<Store, 'prices' | 'providerQuality'>, now: () => Date = () => new Date()): RouteFacts {
  // The figures by "provider country", rebuilt once per read (the read is shared for two seconds).
  let indexed: { from: readonly ProviderCountryQuality[]; byKey: Map<string, ProviderCountryQuality> } | undefined;
  const qualityIndex = async () => {
    const all = await store.providerQuality.read();
    if (indexed?.from !== all) indexed = { from: all, byKey: new Map(all.map((q) => [`${q.provider} ${q.country}`, q])) };
    return indexed.byKey;
  };
  return async (message, providers, minSamples = DEFAULT_MIN_SAMPLES) => {
    const [prices, quality] = await Promise.all([store.prices.listForAccount(message.accountId), qualityIndex()]);
    const country = store.providerQuality.aggregator.countryOf(message.to);
    const at = now();
    // Parsed once for every provider (libphonenumber's parse is most of a decision's cost).
    const destination = destinationOf(message.to);
    return providers.map((provider) => {
      const price = destination ? findApplicablePrice(prices, provider, destination, at) : null;
      const figures = judgedWindow(quality.get(`${provider} ${country}`), minSamples);
      return {
        provider,
        cost: price ? costOf(price, message.segments) : null,
        deliveryRate: figures?.deliveryRate ?? null,
        p95Ms: figures?.deliveryP95Ms ?? null,
        samples: figures ? outcomesOf(figures) : 0,
      };
    });
  };
}

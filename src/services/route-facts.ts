// What a route's strategy weighs for one message (domain/routing-strategy.ts): each provider's
// cost for it (the account's price for the destination × segments) and its measured quality in
// the destination's country. Both come from memory: the account's price list is cached until a
// change is announced (store/prices.ts), the quality figures for two seconds (store/
// provider-quality.ts), so routing costs no query per message.
import { costOf, findApplicablePrice } from '../domain/prices.js';
import type { ProviderCountryQuality, QualityFigures } from '../domain/provider-quality.js';
import type { ProviderFacts } from '../domain/routing-strategy.js';
import type { Store } from '../store/store.js';

/** The message as routing sees it. */
export interface RoutedMessage {
  accountId: string;
  to: string;
  segments: number;
}

export type RouteFacts = (message: RoutedMessage, providers: readonly string[]) => Promise<ProviderFacts[]>;

export function createRouteFacts(store: Pick<Store, 'prices' | 'providerQuality'>, now: () => Date = () => new Date()): RouteFacts {
  // The figures by "provider country", rebuilt once per read (the read is shared for two seconds).
  let indexed: { from: readonly ProviderCountryQuality[]; byKey: Map<string, ProviderCountryQuality> } | undefined;
  const qualityIndex = async () => {
    const all = await store.providerQuality.read();
    if (indexed?.from !== all) indexed = { from: all, byKey: new Map(all.map((q) => [`${q.provider} ${q.country}`, q])) };
    return indexed.byKey;
  };
  return async (message, providers) => {
    const [prices, quality] = await Promise.all([store.prices.listForAccount(message.accountId), qualityIndex()]);
    const country = store.providerQuality.aggregator.countryOf(message.to);
    const at = now();
    return providers.map((provider) => {
      const price = findApplicablePrice(prices, provider, message.to, at);
      const figures = judgedWindow(quality.get(`${provider} ${country}`));
      return {
        provider,
        cost: price ? costOf(price, message.segments) : null,
        deliveryRate: figures?.deliveryRate ?? null,
        p95Ms: figures?.deliveryP95Ms ?? null,
        samples: figures ? figures.delivered + figures.failed + figures.reportsMissing : 0,
      };
    });
  };
}

/**
 * The window routing judges by: the last hour, recent enough to notice an outage and long enough
 * to hold a few hundred outcomes on a busy route; the last 24 hours when the hour has none.
 */
function judgedWindow(quality: ProviderCountryQuality | undefined): QualityFigures | undefined {
  if (!quality) return undefined;
  const hour = quality.lastHour;
  return hour.delivered + hour.failed + hour.reportsMissing > 0 ? hour : quality.last24Hours;
}

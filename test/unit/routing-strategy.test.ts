import { describe, expect, it } from 'vitest';
import type { StrategySettings } from '../../src/config/routes.js';
import { formatMicros as microsToDecimal } from '../../src/domain/money.js';
import { decideRoute, type ProviderFacts } from '../../src/domain/routing-strategy.js';

const usd = (micros: number) => ({ micros: BigInt(micros), currency: 'USD' });
const facts = (provider: string, over: Partial<ProviderFacts> = {}): ProviderFacts => ({
  provider,
  cost: usd(10_000),
  deliveryRate: 0.99,
  p95Ms: 5_000,
  samples: 500,
  ...over,
});
const settings = (over: Partial<StrategySettings>): StrategySettings => ({ strategy: 'LEAST_COST', exploration: 0, minSamples: 50, ...over });
/** A random source that returns the given values in turn (then 0.99). */
const sequence = (...values: number[]) => () => values.shift() ?? 0.99;

describe('decideRoute', () => {
  it('PRIORITY keeps the route order; WEIGHTED picks the first by weight', () => {
    const list = [facts('a'), facts('b'), facts('c')];
    expect(decideRoute(settings({ strategy: 'PRIORITY' }), list).order).toEqual(['a', 'b', 'c']);
    expect(decideRoute(settings({ strategy: 'WEIGHTED', weights: { a: 1, c: 3 } }), list, sequence(0.5)).order).toEqual(['c', 'a', 'b']);
  });

  it('LEAST_COST picks the cheapest provider that meets the floors, and says why the others lost', () => {
    const decision = decideRoute(settings({ floors: { deliveryRate: 0.95, p95Ms: 30_000 } }), [
      facts('cheap-but-bad', { cost: usd(5_000), deliveryRate: 0.9 }),
      facts('slow', { cost: usd(6_000), p95Ms: 45_000 }),
      facts('mid', { cost: usd(8_000) }),
      facts('dear', { cost: usd(20_000) }),
      facts('unpriced', { cost: null }),
      facts('new', { cost: usd(1_000), samples: 3 }),
    ]);
    expect(decision.order).toEqual(['mid', 'dear', 'cheap-but-bad', 'slow', 'unpriced', 'new']);
    expect(decision.summary).toBe('LEAST_COST: mid; cheapest meeting the floors (0.008 USD)');
    const reasons = Object.fromEntries(decision.candidates.map((c) => [c.provider, c.reason ?? 'eligible']));
    expect(reasons).toEqual({
      'cheap-but-bad': 'delivery rate 90.0 % below the floor 95.0 %',
      slow: 'p95 45000 ms above the floor 30000 ms',
      mid: 'eligible',
      dear: 'eligible',
      unpriced: 'no price known for this destination',
      new: 'not enough measurements (3 of 50)',
    });
  });

  it('LEAST_COST compares prices of one currency only, and falls back to the route order when nothing can be judged', () => {
    const mixed = decideRoute(settings({}), [facts('eur', { cost: { micros: 1n, currency: 'EUR' } }), facts('usd-dear', { cost: usd(9) }), facts('eur-dear', { cost: { micros: 5n, currency: 'EUR' } })]);
    expect(mixed.order).toEqual(['eur', 'eur-dear', 'usd-dear']);
    const unjudged = decideRoute(settings({}), [facts('a', { samples: 0 }), facts('b', { deliveryRate: null })]);
    expect(unjudged.order).toEqual(['a', 'b']);
    expect(unjudged.summary).toContain('no provider could be judged');
  });

  it('FASTEST picks the lowest p95 among providers over the delivery-rate floor', () => {
    const decision = decideRoute(settings({ strategy: 'FASTEST', floors: { deliveryRate: 0.95 } }), [
      facts('a', { p95Ms: 9_000 }),
      facts('b', { p95Ms: 2_000, deliveryRate: 0.5 }),
      facts('c', { p95Ms: 3_000 }),
    ]);
    expect(decision.order).toEqual(['c', 'a', 'b']);
    expect(decision.summary).toBe('FASTEST: c; fastest meeting the floors (p95 3000 ms)');
  });

  it('explores with the configured share, preferring a provider not yet measured enough, and says so', () => {
    const list = [facts('a', { cost: usd(1) }), facts('b', { cost: usd(2) }), facts('unmeasured', { samples: 0 })];
    const s = settings({ exploration: 0.1 });
    expect(decideRoute(s, list, sequence(0.5)).order).toEqual(['a', 'b', 'unmeasured']);
    const explored = decideRoute(s, list, sequence(0.05, 0.7));
    expect(explored.order).toEqual(['unmeasured', 'a', 'b']);
    expect(explored.explored).toBe(true);
    expect(explored.summary).toBe('LEAST_COST: unmeasured (exploration); cheapest meeting the floors (0.000001 USD)');
    // Over many messages, about the configured share goes elsewhere.
    let seed = 1;
    const lcg = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const elsewhere = Array.from({ length: 10_000 }, () => decideRoute(s, list, lcg).order[0]).filter((p) => p !== 'a').length;
    expect(elsewhere).toBeGreaterThan(800);
    expect(elsewhere).toBeLessThan(1_200);
  });

  it('writes micro-units as exact decimals', () => {
    expect([0n, 1n, 15_800n, 12_500_000n, -7_900n].map(microsToDecimal)).toEqual(['0', '0.000001', '0.0158', '12.5', '-0.0079']);
  });
});

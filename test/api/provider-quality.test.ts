// Providers' measured quality per destination country, on the real database: the flush and the
// windowed reads agree with the TypeScript twin of the SQL, and messages sent through the
// simulator to two countries show up in `providers { quality }` and /metrics.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MINUTE_MS, QUALITY_RETENTION_MS, QualityAggregator, sumWindows, windowStart } from '../../src/domain/provider-quality.js';
import { MAX_RELATIVE_ERROR } from '../../src/domain/stats-histogram.js';
import { createProviderQualityStore } from '../../src/store/provider-quality.js';
import { getMessage, send, simulatorOf, startDeliveryHerald, waitFor, waitForStatus } from '../support/delivery.js';
import { expectNoErrors, startTestHerald, type GraphQLCaller, type TestHerald } from '../support/herald.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-12-03T12:34:56.789Z');

describe('the quality tables', () => {
  let t: TestHerald;
  beforeAll(async () => {
    t = await startTestHerald();
  });
  afterAll(() => t.stop());

  /** A store on a fake clock, and a provider name no other test uses (the tables are shared). */
  function qualityAt(now: { ms: number }) {
    const aggregator = new QualityAggregator(() => now.ms);
    const store = createProviderQualityStore({ prisma: t.database.prisma, background: t.database.background, aggregator, cacheMs: 0, now: () => now.ms });
    const provider = `twin-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    return { aggregator, store, provider };
  }

  it('sum each window exactly as the TypeScript twin does, boundaries included, adding up repeated flushes', async () => {
    const now = { ms: T0 };
    const { aggregator, store, provider } = qualityAt(now);
    // An outcome at each edge: first and last millisecond inside a window, and just before it.
    const at = (ms: number, record: () => void) => {
      now.ms = ms;
      record();
    };
    for (const w of [5, 60, 1440]) {
      at(windowStart(T0, w), () => aggregator.recordSubmission(provider, '+14155550100', true));
      at(windowStart(T0, w) - 1, () => aggregator.recordSubmission(provider, '+14155550100', false));
    }
    at(T0, () => aggregator.recordDelivery(provider, '+14155550100', 'delivered', 120));
    at(T0 - 30_000, () => aggregator.recordDelivery(provider, '+4915112345678', 'delivered', 2_500));
    at(T0 - 2 * HOUR, () => aggregator.recordDelivery(provider, '+4915112345678', 'failed'));
    at(T0 - 3 * HOUR, () => aggregator.recordDelivery(provider, '+4915112345678', 'missing'));
    const counted = aggregator.take();
    aggregator.restore(counted);
    now.ms = T0;

    expect(await store.flush()).toBe(counted.length);
    expect(await store.flush()).toBe(0); // nothing new: no statement's worth
    const once = (await store.read()).filter((q) => q.provider === provider);
    expect(once).toEqual(sumWindows(counted, T0));
    const [de, us] = once;
    expect([us!.last5Minutes.submitted, us!.lastHour.submitted, us!.last24Hours.submitted]).toEqual([1, 2, 3]);
    expect([us!.last5Minutes.submitErrors, us!.lastHour.submitErrors, us!.last24Hours.submitErrors]).toEqual([0, 1, 2]);
    expect(us!.last5Minutes).toMatchObject({ delivered: 1, deliveryRate: 1, submitErrorRate: 0 });
    expect(Math.abs(us!.last5Minutes.deliveryP50Ms! / 120 - 1)).toBeLessThanOrEqual(MAX_RELATIVE_ERROR);
    expect(de!.last5Minutes).toMatchObject({ delivered: 1, failed: 0, reportsMissing: 0, deliveryRate: 1, submitted: 0, reportsMissingShare: null });
    expect(de!.last24Hours).toMatchObject({ delivered: 1, failed: 1, reportsMissing: 1, deliveryRate: 1 / 3 });

    // A second process (here: the same counts again) adds to the rows, never overwrites them.
    aggregator.restore(counted);
    await store.flush();
    const twice = (await store.read()).filter((q) => q.provider === provider);
    expect(twice).toEqual(sumWindows([...counted, ...counted], T0));
    expect(twice[1]!.last24Hours.submitted).toBe(6);
  });

  it('deletes minutes past 25 hours and keeps the rest', async () => {
    const now = { ms: T0 - QUALITY_RETENTION_MS - MINUTE_MS };
    const { aggregator, store, provider } = qualityAt(now);
    aggregator.recordDelivery(provider, '+14155550100', 'delivered', 50);
    now.ms = T0 - QUALITY_RETENTION_MS + MINUTE_MS;
    aggregator.recordSubmission(provider, '+14155550100', true);
    await store.flush();
    now.ms = T0;
    expect(await store.prune()).toBe(2); // the old minute's counts and its latency bucket
    const rows = await t.database.prisma.providerQualityMinute.findMany({ where: { provider } });
    expect(rows.map((r) => r.minute.getTime())).toEqual([Math.floor((T0 - QUALITY_RETENTION_MS + MINUTE_MS) / MINUTE_MS) * MINUTE_MS]);
    expect(await t.database.prisma.providerQualityLatency.count({ where: { provider } })).toBe(0);
  });
});

const QUALITY = /* GraphQL */ `
  query Quality($country: String) {
    providers {
      name
      quality(country: $country) {
        country
        last5Minutes { ...Figures }
        lastHour { ...Figures }
        last24Hours { ...Figures }
      }
    }
  }
  fragment Figures on ProviderQualityFigures {
    windowSeconds submitted submitErrors submitErrorRate delivered failed reportsMissing deliveryRate reportsMissingShare deliveryP50Ms deliveryP95Ms
  }
`;

async function qualityOf(caller: GraphQLCaller, country?: string) {
  const data = expectNoErrors(await caller(QUALITY, { country }));
  return data.providers.find((p: { name: string }) => p.name === 'simulator').quality as any[];
}

/** /metrics as samples: name, labels and value. */
async function scrape(url: string): Promise<{ name: string; labels: Record<string, string>; value: number }[]> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line)!;
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

describe('providers { quality }', () => {
  let t: TestHerald | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('shows, per destination country, what was submitted, delivered, failed and never reported, and so does /metrics', async () => {
    // Reports come 50 ms after acceptance unless the simulator is told otherwise; a SENT message
    // with no report after 3 s expires (synthetic): its report counts as missing.
    t = await startDeliveryHerald({ qualityFlushMs: 50, reconcile: { afterMs: HOUR, deadlineMs: 3_000, intervalMs: 100 } });
    const { sender } = await t.seedAccount();

    // US: two delivered, one undelivered, one refused at submission.
    const us = await Promise.all(['+14155550100', '+14155550123', '+14155550000', '+14155550001'].map((to) => send(sender, { to })));
    // DE: one delivered, one that times out at every attempt (then FAILED by Herald, not by a report).
    const de = await Promise.all(['+4915112345678', '+4915112340002'].map((to) => send(sender, { to })));
    for (const m of [...us, ...de]) await waitForStatus(sender, m.id);
    const timeouts = (await getMessage(sender, de[1]!.id))!.events.filter((e) => e.source === 'DISPATCHER' && e.errorCode === 'TIMEOUT').length;
    expect(timeouts).toBeGreaterThanOrEqual(1);
    // DE: one more, whose report never comes.
    simulatorOf(t).configure({ reportDelayMs: HOUR });
    const silent = await send(sender, { to: '+4915112345679' });
    await waitForStatus(sender, silent.id, 'EXPIRED', 15_000);

    const expected = {
      US: { submitted: 3, submitErrors: 1, submitErrorRate: 0.25, delivered: 2, failed: 1, reportsMissing: 0, deliveryRate: 2 / 3, reportsMissingShare: 0 },
      DE: { submitted: 2, submitErrors: timeouts, submitErrorRate: timeouts / (2 + timeouts), delivered: 1, failed: 0, reportsMissing: 1, deliveryRate: 0.5, reportsMissingShare: 0.5 },
    };
    const quality = await waitFor(
      async () => {
        const q = await qualityOf(sender);
        const byCountry = Object.fromEntries(q.map((e) => [e.country, e.last5Minutes]));
        return q.length === 2 && byCountry.US?.failed === 1 && byCountry.DE?.reportsMissing === 1 && byCountry.DE?.submitted === 2 ? q : undefined;
      },
      { timeoutMs: 10_000, what: 'quality figures of both countries' },
    );
    expect(quality.map((q) => q.country)).toEqual(['DE', 'US']);
    for (const entry of quality) {
      const want = expected[entry.country as 'US' | 'DE'];
      expect(entry.last5Minutes).toMatchObject({ windowSeconds: 300, ...want });
      expect(entry.lastHour).toMatchObject({ windowSeconds: 3600, ...want });
      expect(entry.last24Hours).toMatchObject({ windowSeconds: 86_400, ...want });
      for (const w of [entry.last5Minutes, entry.lastHour, entry.last24Hours]) {
        // The simulator reports ~50 ms after acceptance.
        expect(w.deliveryP50Ms).toBeGreaterThan(0);
        expect(w.deliveryP50Ms).toBeLessThan(10_000);
        expect(w.deliveryP95Ms).toBeGreaterThanOrEqual(w.deliveryP50Ms);
      }
    }

    // One country asked for: that one, or zeros and nulls for a country without data.
    expect(await qualityOf(sender, 'us')).toEqual([quality.find((q) => q.country === 'US')]);
    const [fr] = await qualityOf(sender, 'FR');
    expect(fr).toMatchObject({ country: 'FR', last24Hours: { submitted: 0, submitErrorRate: null, deliveryRate: null, reportsMissingShare: null, deliveryP50Ms: null } });
    const refused = await sender(QUALITY, { country: 'France' });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', issues: [{ path: ['country'] }] });

    const samples = await scrape(t.herald.url);
    const sample = (name: string, labels: Record<string, string>) =>
      samples.filter((s) => s.name === name && Object.entries({ provider: 'simulator', ...labels }).every(([k, v]) => s.labels[k] === v)).map((s) => s.value);
    for (const window of ['5m', '1h', '24h']) {
      expect(sample('herald_provider_delivery_rate', { country: 'US', window })).toEqual([2 / 3]);
      expect(sample('herald_provider_delivery_rate', { country: 'DE', window })).toEqual([0.5]);
      expect(sample('herald_provider_submit_error_rate', { country: 'US', window })).toEqual([0.25]);
      expect(sample('herald_provider_reports_missing_share', { country: 'DE', window })).toEqual([0.5]);
      const p50 = quality.find((q) => q.country === 'US').last5Minutes.deliveryP50Ms / 1000;
      expect(sample('herald_provider_delivery_seconds', { country: 'US', window, quantile: '0.5' })).toEqual([p50]);
      expect(sample('herald_provider_delivery_seconds', { country: 'DE', window, quantile: '0.95' })).toHaveLength(1);
    }
  });

  it('writes the counts not flushed yet when Herald stops', async () => {
    t = await startDeliveryHerald(); // qualityFlushMs 0: nothing is written before stop()
    const { sender } = await t.seedAccount();
    const m = await send(sender, { to: '+14155550100' });
    await waitForStatus(sender, m.id, 'DELIVERED');
    const database = t.database;
    const before = await database.prisma.providerQualityMinute.count({ where: { provider: 'simulator' } });
    await t.herald.stop();
    const rows = await database.prisma.providerQualityMinute.findMany({ where: { provider: 'simulator', country: 'US' } });
    expect(rows.reduce((n, r) => n + r.delivered, 0)).toBeGreaterThanOrEqual(1);
    expect(before).toBe(0);
  });
});

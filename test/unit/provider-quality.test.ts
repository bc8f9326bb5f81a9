// Providers' measured quality without a database: the in-memory aggregator, window boundaries
// and sums, rates and percentiles (src/domain/provider-quality.ts).
import { describe, expect, it } from 'vitest';
import {
  judgedWindow,
  MINUTE_MS,
  QualityAggregator,
  qualityFigures,
  selectQuality,
  sumWindows,
  windowStart,
  ZERO_COUNTS,
  type QualityBucket,
} from '../../src/domain/provider-quality.js';
import { ValidationError } from '../../src/domain/errors.js';
import { bucketOf, bucketValue, histogramQuantile, MAX_RELATIVE_ERROR, type Histogram } from '../../src/domain/stats-histogram.js';

const T0 = Date.parse('2026-12-03T12:34:56.789Z');
const US = '+14155550100';
const CA = '+16135550123';
const DE = '+4915112345678';

function clock(start = T0) {
  const c = { now: start, fn: () => c.now };
  return c;
}

function bucket(fields: Partial<QualityBucket> & { minute: number }): QualityBucket {
  return { provider: 'p', country: 'US', ...ZERO_COUNTS, latency: new Map(), ...fields };
}

describe('QualityAggregator', () => {
  it('counts each outcome under its provider, the country of the number and the minute it happened', () => {
    const c = clock();
    const q = new QualityAggregator(c.fn);
    q.recordSubmission('sim', US, true);
    q.recordSubmission('sim', US, false);
    q.recordSubmission('sim', CA, true);
    q.recordSubmission('other', DE, true);
    q.recordDelivery('sim', US, 'delivered', 1_500);
    q.recordDelivery('sim', US, 'failed');
    c.now += MINUTE_MS; // the next minute
    q.recordDelivery('sim', US, 'missing');
    q.recordDelivery('sim', US, 'delivered', null); // sentAt unknown: counted, no time
    const minute = Date.parse('2026-12-03T12:34:00Z');
    const taken = q.take();
    expect(taken).toEqual([
      { provider: 'other', country: 'DE', minute, ...ZERO_COUNTS, submitted: 1, latency: new Map() },
      { provider: 'sim', country: 'CA', minute, ...ZERO_COUNTS, submitted: 1, latency: new Map() },
      { provider: 'sim', country: 'US', minute, ...ZERO_COUNTS, submitted: 1, submitErrors: 1, delivered: 1, failed: 1, latency: new Map([[bucketOf(1.5), 1]]) },
      { provider: 'sim', country: 'US', minute: minute + MINUTE_MS, ...ZERO_COUNTS, delivered: 1, reportsMissing: 1, latency: new Map() },
    ]);
    expect(q.size).toBe(0);
    expect(q.take()).toEqual([]);
  });

  it('tells apart countries that share a calling code, and caches the answer per prefix', () => {
    const q = new QualityAggregator();
    expect(q.countryOf(US)).toBe('US');
    expect(q.countryOf(CA)).toBe('CA');
    expect(q.countryOf('+14155550199')).toBe('US');
    expect(q.countryOf(DE)).toBe('DE');
    expect(q.countryOf('+447400123456')).toBe('GB');
    expect(q.countryOf('+447911123456')).toBe('GG'); // +44 shared with Guernsey, told apart by the prefix
  });

  it('puts back what a failed flush took, adding to what was counted since', () => {
    const q = new QualityAggregator(clock().fn);
    q.recordSubmission('sim', US, true);
    q.recordDelivery('sim', US, 'delivered', 100);
    const taken = q.take();
    q.recordSubmission('sim', US, true);
    q.restore(taken);
    const [again] = q.take();
    expect(again).toMatchObject({ submitted: 2, delivered: 1 });
    expect(again!.latency).toEqual(new Map([[bucketOf(0.1), 1]]));
  });
});

describe('windows', () => {
  it('start at the minute that holds the instant the window length ago', () => {
    expect(new Date(windowStart(T0, 5)).toISOString()).toBe('2026-12-03T12:29:00.000Z');
    expect(new Date(windowStart(T0, 60)).toISOString()).toBe('2026-12-03T11:34:00.000Z');
    expect(new Date(windowStart(T0, 1440)).toISOString()).toBe('2026-12-02T12:34:00.000Z');
    // On a minute's first millisecond the window is exactly its length.
    const onMinute = Date.parse('2026-12-03T12:35:00.000Z');
    expect(new Date(windowStart(onMinute, 5)).toISOString()).toBe('2026-12-03T12:30:00.000Z');
  });

  it('sum the minute buckets inside each window, exactly, and none before it', () => {
    const minute = (iso: string) => Date.parse(iso);
    const buckets = [
      bucket({ minute: minute('2026-12-03T12:34:00Z'), submitted: 1 }), // now
      bucket({ minute: minute('2026-12-03T12:29:00Z'), submitted: 2 }), // first of 5 min
      bucket({ minute: minute('2026-12-03T12:28:00Z'), submitted: 4 }), // just before: hour only
      bucket({ minute: minute('2026-12-03T11:34:00Z'), submitted: 8 }), // first of the hour
      bucket({ minute: minute('2026-12-03T11:33:00Z'), submitted: 16 }), // 24 h only
      bucket({ minute: minute('2026-12-02T12:34:00Z'), submitted: 32 }), // first of 24 h
      bucket({ minute: minute('2026-12-02T12:33:00Z'), submitted: 64 }), // outside every window
      bucket({ minute: minute('2026-12-03T12:30:00Z'), country: 'DE', delivered: 3, failed: 1 }),
    ];
    const [de, us] = sumWindows(buckets, T0);
    expect([us!.last5Minutes.submitted, us!.lastHour.submitted, us!.last24Hours.submitted]).toEqual([3, 15, 63]);
    expect(de).toMatchObject({ provider: 'p', country: 'DE', last5Minutes: { delivered: 3, failed: 1, deliveryRate: 0.75, submitted: 0, submitErrorRate: null } });
  });

  it('leave out a pair whose only data is older than 24 hours', () => {
    expect(sumWindows([bucket({ minute: windowStart(T0, 1440) - MINUTE_MS, submitted: 1 })], T0)).toEqual([]);
  });
});

describe('compressed time (QUALITY_BUCKET_MS)', () => {
  it('counts in buckets of the given length, and the windows are 5, 60 and 1 440 of them', () => {
    const c = clock();
    const q = new QualityAggregator(c.fn, 1_000);
    q.recordDelivery('sim', US, 'delivered');
    c.now += 1_000;
    q.recordDelivery('sim', US, 'failed');
    expect(q.take().map((b) => b.minute)).toEqual([Math.floor(T0 / 1000) * 1000, Math.floor(T0 / 1000) * 1000 + 1000]);
    expect(windowStart(T0, 5, 1_000)).toBe(Math.floor(T0 / 1000) * 1000 - 5_000);
    const old = bucket({ minute: windowStart(T0, 5, 1_000) - 1_000, failed: 3 });
    const recent = bucket({ minute: windowStart(T0, 5, 1_000), delivered: 2 });
    const [figures] = sumWindows([old, recent], T0, 1_000);
    expect(figures!.last5Minutes).toMatchObject({ windowSeconds: 5, delivered: 2, failed: 0 });
    expect(figures!.lastHour).toMatchObject({ windowSeconds: 60, delivered: 2, failed: 3 });
  });
});

describe('judgedWindow', () => {
  const pair = (five: number, hour: number, day: number) => {
    const at = (minutesAgo: number, delivered: number) => bucket({ minute: T0 - minutesAgo * MINUTE_MS, delivered });
    return sumWindows([at(0, five), at(30, hour - five), at(600, day - hour)], T0)[0]!;
  };

  it('is the shortest window with the route\'s minSamples outcomes', () => {
    expect(judgedWindow(pair(20, 100, 1000), 20)!.windowSeconds).toBe(300);
    expect(judgedWindow(pair(19, 100, 1000), 20)!.windowSeconds).toBe(3_600);
    expect(judgedWindow(pair(0, 19, 1000), 20)!.windowSeconds).toBe(86_400);
  });

  it('falls back to the 24 hours, too few to judge, and is undefined without data', () => {
    expect(judgedWindow(pair(1, 2, 3), 20)).toMatchObject({ windowSeconds: 86_400, delivered: 3 });
    expect(judgedWindow(undefined, 20)).toBeUndefined();
  });
});

describe('qualityFigures', () => {
  it('is all zeros and nulls without data', () => {
    expect(qualityFigures({ minutes: 5 }, ZERO_COUNTS, new Map())).toEqual({
      windowSeconds: 300,
      ...ZERO_COUNTS,
      submitErrorRate: null,
      deliveryRate: null,
      reportsMissingShare: null,
      deliveryP50Ms: null,
      deliveryP95Ms: null,
    });
  });

  it('computes the rates from the counts', () => {
    const f = qualityFigures({ minutes: 60 }, { submitted: 8, submitErrors: 2, delivered: 5, failed: 2, reportsMissing: 1 }, new Map());
    expect(f).toMatchObject({ windowSeconds: 3600, submitErrorRate: 0.2, deliveryRate: 5 / 8, reportsMissingShare: 1 / 8 });
  });

  it('has no missing share without accepted submissions, even with reports missing', () => {
    const f = qualityFigures({ minutes: 5 }, { ...ZERO_COUNTS, submitErrors: 1, reportsMissing: 1 }, new Map());
    expect(f).toMatchObject({ submitErrorRate: 1, reportsMissingShare: null, deliveryRate: 0 });
  });

  it('gives p50 and p95 to delivery within ±4.4 % of the exact nearest-rank percentiles', () => {
    const ms = Array.from({ length: 200 }, (_, i) => 40 + i * i * 3); // 40 ms … ~119 s, skewed
    const histogram: Histogram = new Map();
    for (const v of ms) histogram.set(bucketOf(v / 1000), (histogram.get(bucketOf(v / 1000)) ?? 0) + 1);
    const f = qualityFigures({ minutes: 5 }, { ...ZERO_COUNTS, delivered: ms.length }, histogram);
    const sorted = [...ms].sort((a, b) => a - b);
    const exact = (p: number) => sorted[Math.ceil(p * sorted.length) - 1]!;
    expect(Math.abs(f.deliveryP50Ms! / exact(0.5) - 1)).toBeLessThanOrEqual(MAX_RELATIVE_ERROR);
    expect(Math.abs(f.deliveryP95Ms! / exact(0.95) - 1)).toBeLessThanOrEqual(MAX_RELATIVE_ERROR);
  });
});

describe('histogramQuantile', () => {
  it('is the value of the bucket holding the nearest rank, null when empty', () => {
    expect(histogramQuantile(new Map(), 0.5)).toBeNull();
    expect(histogramQuantile(new Map([[10, 0]]), 0.5)).toBeNull();
    const h = new Map([
      [30, 1],
      [10, 18],
      [20, 1],
    ]);
    expect(histogramQuantile(h, 0.5)).toBe(bucketValue(10));
    expect(histogramQuantile(h, 0.95)).toBe(bucketValue(20)); // rank 19 of 20
    expect(histogramQuantile(h, 1)).toBe(bucketValue(30));
  });
});

describe('selectQuality', () => {
  const all = sumWindows(
    [bucket({ minute: T0, provider: 'a', country: 'US', submitted: 1 }), bucket({ minute: T0, provider: 'a', country: 'DE', submitted: 2 }), bucket({ minute: T0, provider: 'b', country: 'US', submitted: 3 })],
    T0,
  );

  it("lists every country a provider has data for, or just the one asked for (zeros and nulls without data)", () => {
    expect(selectQuality(all, 'a')).toMatchObject([{ country: 'DE' }, { country: 'US' }]);
    expect(selectQuality(all, 'a', 'us')).toMatchObject([{ provider: 'a', country: 'US', lastHour: { submitted: 1 } }]);
    expect(selectQuality(all, 'b', 'FR')).toMatchObject([{ provider: 'b', country: 'FR', last24Hours: { submitted: 0, deliveryRate: null } }]);
    expect(selectQuality(all, 'c')).toEqual([]);
  });

  it('refuses a country that is not an ISO alpha-2 code', () => {
    const refused = selectQuality(all, 'a', 'USA');
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).issues).toEqual([{ path: ['country'], message: expect.stringContaining('alpha-2') }]);
  });
});

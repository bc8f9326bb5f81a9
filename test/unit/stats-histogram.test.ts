import { describe, expect, it } from 'vitest';
import {
  bucketOf,
  bucketValue,
  histogramMedian,
  LAST_BUCKET,
  MAX_RELATIVE_ERROR,
  MAX_SECONDS,
  mergeParts,
  MIN_SECONDS,
  totalOf,
  type Histogram,
  type StatsPart,
} from '../../src/domain/stats-histogram.js';
import { liveIntervals, wholeDays } from '../../src/domain/stats.js';

/** percentile_cont(0.5), as PostgreSQL computes the exact median. */
function exactMedian(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (sorted.length - 1) / 2;
  const low = sorted[Math.floor(rank)]!;
  return low + (rank - Math.floor(rank)) * (sorted[Math.ceil(rank)]! - low);
}

function histogramOf(values: number[]): Histogram {
  const h: Histogram = new Map();
  for (const v of values) h.set(bucketOf(v), (h.get(bucketOf(v)) ?? 0) + 1);
  return h;
}

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('time-to-delivery histogram', () => {
  it('puts every time in a bucket whose value is within the stated error, 1 ms to 12 days', () => {
    expect(MAX_RELATIVE_ERROR).toBeCloseTo(0.0443, 4);
    const next = random(1);
    for (let i = 0; i < 20_000; i++) {
      const seconds = MIN_SECONDS * 2 ** (next() * 30);
      const value = bucketValue(bucketOf(seconds));
      expect(Math.abs(value - seconds) / seconds).toBeLessThanOrEqual(MAX_RELATIVE_ERROR + 1e-12);
    }
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(-3)).toBe(0);
    expect(bucketValue(0)).toBe(0);
    expect(bucketOf(MAX_SECONDS * 2)).toBe(LAST_BUCKET);
    expect(bucketValue(LAST_BUCKET)).toBe(MAX_SECONDS);
  });

  it('gives a median within the stated error of percentile_cont, odd and even counts, skewed data', () => {
    const next = random(7);
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(next() * 400);
      // Log-normal-ish times: most in seconds, a long tail to hours.
      const values = Array.from({ length: n }, () => Math.exp(next() * 4 + next() * next() * 6) * 0.3);
      const exact = exactMedian(values);
      const approx = histogramMedian(histogramOf(values))!;
      expect(Math.abs(approx - exact) / exact).toBeLessThanOrEqual(MAX_RELATIVE_ERROR + 1e-12);
    }
    expect(histogramMedian(new Map())).toBeNull();
    expect(histogramMedian(new Map([[5, 0]]))).toBeNull();
  });

  it('adds parts of the same key, counts and buckets alike, and totals all of them', () => {
    const counts = { total: 2, delivered: 1, undelivered: 1, failed: 0, rejected: 0, expired: 0, canceled: 0, inFlight: 0 };
    const parts: StatsPart[] = [
      { key: 'twilio', counts, segments: 3, histogram: new Map([[10, 1]]) },
      { key: null, counts, segments: 1, histogram: new Map([[12, 1]]) },
      { key: 'twilio', counts, segments: 2, histogram: new Map([[10, 1], [11, 1]]) },
    ];
    const merged = mergeParts(parts);
    expect(merged).toHaveLength(2);
    expect(merged.find((p) => p.key === 'twilio')).toEqual({
      key: 'twilio',
      counts: { ...counts, total: 4, delivered: 2, undelivered: 2 },
      segments: 5,
      histogram: new Map([[10, 2], [11, 1]]),
    });
    const total = totalOf(merged);
    expect(total.counts.total).toBe(6);
    expect(total.histogram).toEqual(new Map([[10, 2], [11, 1], [12, 1]]));
    expect(totalOf([]).counts.total).toBe(0);
  });
});

describe('rolled-up days and the live rest of a range', () => {
  const at = (iso: string) => new Date(iso);
  it('finds the whole UTC days inside a range', () => {
    expect(wholeDays(at('2026-03-01T10:00:00Z'), at('2026-03-04T00:00:00Z'))).toEqual({ firstDay: '2026-03-02', endDay: '2026-03-04' });
    expect(wholeDays(at('2026-03-01T00:00:00Z'), at('2026-03-01T23:59:59Z'))).toBeNull();
    expect(wholeDays(at('2026-03-01T00:00:00Z'), at('2026-03-02T00:00:00Z'))).toEqual({ firstDay: '2026-03-01', endDay: '2026-03-02' });
  });

  it('leaves to count live exactly what the rolled-up days do not cover', () => {
    const from = at('2026-03-01T10:00:00Z');
    const to = at('2026-03-06T08:00:00Z');
    expect(liveIntervals(from, to, ['2026-03-02', '2026-03-03', '2026-03-05'])).toEqual([
      { from, to: at('2026-03-02T00:00:00Z') },
      { from: at('2026-03-04T00:00:00Z'), to: at('2026-03-05T00:00:00Z') },
      { from: at('2026-03-06T00:00:00Z'), to },
    ]);
    expect(liveIntervals(from, to, [])).toEqual([{ from, to }]);
    const whole = at('2026-03-02T00:00:00Z');
    expect(liveIntervals(whole, at('2026-03-03T00:00:00Z'), ['2026-03-02'])).toEqual([]);
  });
});

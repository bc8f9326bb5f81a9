// messageStats' approximate medians: times to delivery counted in fixed log-scale buckets, so
// that counts of days rolled up long ago and of today's messages can be added, which medians
// cannot. The SQL twin of bucketOf() is deliveryBucketSql() in src/store/stats-sql.ts; this file
// says what a bucket means and how far its median can be from the exact one.
//
// Bucket 0 holds everything under MIN_SECONDS (0 and clock-skewed negative times too); bucket i
// (1 … LAST_BUCKET - 1) holds [MIN·2^((i-1)/8), MIN·2^(i/8)); LAST_BUCKET everything from
// MAX_SECONDS on. A bucket stands for its geometric middle, which is within a factor 2^(1/16) of
// every time in it, so a median taken from the buckets is within MAX_RELATIVE_ERROR of the exact
// median whenever that median lies between MIN_SECONDS and MAX_SECONDS.

import type { StatsCounts } from './stats.js';

export const BUCKETS_PER_DOUBLING = 8;
/** 1 ms: shorter times to delivery are reported as 0. */
export const MIN_SECONDS = 0.001;
const DOUBLINGS = 30;
/** 2^30 ms ≈ 12.4 days: longer times to delivery are reported as this. */
export const MAX_SECONDS = MIN_SECONDS * 2 ** DOUBLINGS;
export const LAST_BUCKET = 1 + BUCKETS_PER_DOUBLING * DOUBLINGS;
/** 2^(1/16) - 1 ≈ 4.43 %: the farthest a bucket's middle is from a time in it, relatively. */
export const MAX_RELATIVE_ERROR = 2 ** (1 / (2 * BUCKETS_PER_DOUBLING)) - 1;

/** Bucket of a time to delivery in seconds (messageStats buckets in the database with the SQL twin; providers' measured quality buckets here, in memory). */
export function bucketOf(seconds: number): number {
  if (seconds < MIN_SECONDS) return 0;
  if (seconds >= MAX_SECONDS) return LAST_BUCKET;
  return Math.min(LAST_BUCKET - 1, 1 + Math.floor(Math.log2(seconds / MIN_SECONDS) * BUCKETS_PER_DOUBLING));
}

/** The time a bucket stands for: its geometric middle (0 below MIN_SECONDS, MAX_SECONDS above). */
export function bucketValue(bucket: number): number {
  if (bucket <= 0) return 0;
  if (bucket >= LAST_BUCKET) return MAX_SECONDS;
  return MIN_SECONDS * 2 ** ((bucket - 0.5) / BUCKETS_PER_DOUBLING);
}

/** Delivered messages counted by bucket. */
export type Histogram = Map<number, number>;

/**
 * The median as PostgreSQL's percentile_cont(0.5) computes it (the middle value, or the mean of
 * the two middle values), over the buckets' values instead of the times: each of the one or two
 * middle values is off by at most MAX_RELATIVE_ERROR, so their mean is too. null when empty.
 */
export function histogramMedian(histogram: Histogram): number | null {
  const buckets = [...histogram].filter(([, n]) => n > 0).sort(([a], [b]) => a - b);
  const count = buckets.reduce((sum, [, n]) => sum + n, 0);
  if (count === 0) return null;
  const rank = (count - 1) / 2;
  const at = (index: number): number => {
    let seen = 0;
    for (const [bucket, n] of buckets) {
      seen += n;
      if (index < seen) return bucketValue(bucket);
    }
    return bucketValue(buckets.at(-1)![0]);
  };
  const low = at(Math.floor(rank));
  const high = at(Math.ceil(rank));
  return low + (rank - Math.floor(rank)) * (high - low);
}

/**
 * The nearest-rank quantile `q` (0 < q ≤ 1: the smallest time with at least q of the counts at or
 * below it) as its bucket's value. The exact nearest-rank time lies in that bucket, so the answer
 * is within MAX_RELATIVE_ERROR (±4.4 %) of it whenever it lies between MIN_SECONDS and
 * MAX_SECONDS. null when empty. (Providers' measured quality: p50 and p95 to delivery.)
 */
export function histogramQuantile(histogram: Histogram, q: number): number | null {
  const buckets = [...histogram].filter(([, n]) => n > 0).sort(([a], [b]) => a - b);
  const count = buckets.reduce((sum, [, n]) => sum + n, 0);
  if (count === 0) return null;
  const rank = Math.max(1, Math.ceil(q * count));
  let seen = 0;
  for (const [bucket, n] of buckets) {
    seen += n;
    if (seen >= rank) return bucketValue(bucket);
  }
  return bucketValue(buckets.at(-1)![0]);
}

/** Counts, segments and the time-to-delivery histogram of one group: what parts of a range add up to. */
export interface StatsPart {
  key: string | null;
  counts: StatsCounts;
  segments: number;
  histogram: Histogram;
}

const ZERO: StatsCounts = { total: 0, delivered: 0, undelivered: 0, failed: 0, rejected: 0, expired: 0, canceled: 0, inFlight: 0 };

/** Adds parts with the same key (a rolled-up day's and a live day's, say): counts and buckets add. */
export function mergeParts(parts: Iterable<StatsPart>): StatsPart[] {
  const byKey = new Map<string | null, StatsPart>();
  for (const part of parts) {
    const into = byKey.get(part.key) ?? { key: part.key, counts: { ...ZERO }, segments: 0, histogram: new Map() };
    for (const name of Object.keys(ZERO) as (keyof StatsCounts)[]) into.counts[name] += part.counts[name];
    into.segments += part.segments;
    for (const [bucket, n] of part.histogram) into.histogram.set(bucket, (into.histogram.get(bucket) ?? 0) + n);
    byKey.set(part.key, into);
  }
  return [...byKey.values()];
}

/** Every part added into one (the totals row). */
export function totalOf(parts: Iterable<StatsPart>): StatsPart {
  return mergeParts([...parts].map((p) => ({ ...p, key: null })))[0] ?? { key: null, counts: { ...ZERO }, segments: 0, histogram: new Map() };
}

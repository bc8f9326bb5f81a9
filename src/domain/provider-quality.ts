// Measured provider quality per destination country: the counting each process does in memory
// as outcomes happen, and the figures (rates, percentiles) read back from the shared minute
// buckets. The SQL lives in src/store/provider-quality.ts; docs/providers.md, "Measured
// quality", says what is counted.
//
// Why minute buckets counted in memory: routing will read these figures per message, and every
// process of every instance contributes. Counting in a Map costs nothing per message; a flush
// loop adds each process's minutes into one table every couple of seconds (INSERT … ON CONFLICT
// adds, so processes never overwrite each other), and a reader sums the minutes of a window.
import { ValidationError } from './errors.js';
import { bucketOf, histogramQuantile, type Histogram } from './stats-histogram.js';
import { countryOfPrefix, countryPrefix } from './stats.js';

/**
 * One bucket: a minute. QUALITY_BUCKET_MS may shorten it to compress time in tests and benchmarks;
 * the windows are then 5, 60 and 1 440 buckets, and their `windowSeconds` say how long that is.
 */
export const MINUTE_MS = 60_000;

/** The windows, shortest first: their GraphQL field names and their /metrics label values. */
export const qualityWindows = [
  { name: 'last5Minutes', label: '5m', minutes: 5 },
  { name: 'lastHour', label: '1h', minutes: 60 },
  { name: 'last24Hours', label: '24h', minutes: 24 * 60 },
] as const;

export type QualityWindow = (typeof qualityWindows)[number];
export type QualityWindowName = QualityWindow['name'];

/** Buckets older than this many are deleted: the longest window plus an hour of slack. */
export const QUALITY_RETENTION_BUCKETS = 25 * 60;
export const QUALITY_RETENTION_MS = QUALITY_RETENTION_BUCKETS * MINUTE_MS;

/** The start of the UTC minute (or bucket of `bucketMs`) `ms` falls in. */
export function minuteOf(ms: number, bucketMs = MINUTE_MS): number {
  return Math.floor(ms / bucketMs) * bucketMs;
}

/**
 * The first minute bucket a window of `minutes` takes at `nowMs`: the bucket holding the instant
 * `minutes` ago. So every outcome of the last `minutes` counts, plus at most the part of a minute
 * before it: the window covers between `minutes` and `minutes + 1` minutes. (Buckets are whole
 * minutes; the alternative, dropping that first partial bucket, would miss outcomes instead.)
 */
export function windowStart(nowMs: number, minutes: number, bucketMs = MINUTE_MS): number {
  return minuteOf(nowMs - minutes * bucketMs, bucketMs);
}

export interface QualityCounts {
  /** Submissions the provider accepted. */
  submitted: number;
  /** Submissions it refused (REJECTED) or that failed (a retryable error, a timeout): each attempt. */
  submitErrors: number;
  /** Final DELIVERED reports. */
  delivered: number;
  /** Final reports other than DELIVERED. */
  failed: number;
  /** Messages whose report never came before the delivery-report deadline (synthetic EXPIRED). */
  reportsMissing: number;
}

export const ZERO_COUNTS: Readonly<QualityCounts> = Object.freeze({ submitted: 0, submitErrors: 0, delivered: 0, failed: 0, reportsMissing: 0 });

/** What one process counted for one provider, country and minute. */
export interface QualityBucket extends QualityCounts {
  provider: string;
  country: string;
  /** Start of the UTC minute, epoch ms. */
  minute: number;
  /** SENT → DELIVERED times, by bucket of stats-histogram.ts. */
  latency: Histogram;
}

/** How a message's delivery ended, as far as quality counts it. */
export type DeliveryOutcome = 'delivered' | 'failed' | 'missing';

/** Where outcomes are counted: in memory, nothing else (no I/O on the paths that call it). */
export interface QualityRecorder {
  /** A provider answered a submission: accepted, or not (refused, failed, timed out). */
  recordSubmission(provider: string, to: string, accepted: boolean): void;
  /** A message's delivery ended; `latencyMs` (SENT → DELIVERED) when delivered and known. */
  recordDelivery(provider: string, to: string, outcome: DeliveryOutcome, latencyMs?: number | null): void;
}

/** Distinct prefixes remembered before the cache starts over (there are a few thousand at most). */
const MAX_CACHED_PREFIXES = 20_000;

/**
 * One process's counts since its last flush, keyed by provider, country and minute. `take()`
 * hands them to the flush and starts afresh; `restore()` puts back what a failed flush took.
 */
export class QualityAggregator implements QualityRecorder {
  private buckets = new Map<string, QualityBucket>();
  // Country by number prefix (stats.ts's prefixes): libphonenumber parses one number per prefix
  // instead of one per outcome.
  private readonly countries = new Map<string, string>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly bucketMs = MINUTE_MS,
  ) {}

  /** The ISO country of an E.164 number ("ZZ" when libphonenumber places it nowhere). */
  countryOf(to: string): string {
    const prefix = countryPrefix(to);
    let country = this.countries.get(prefix);
    if (country === undefined) {
      if (this.countries.size >= MAX_CACHED_PREFIXES) this.countries.clear();
      country = countryOfPrefix(prefix, to);
      this.countries.set(prefix, country);
    }
    return country;
  }

  recordSubmission(provider: string, to: string, accepted: boolean): void {
    const bucket = this.bucketFor(provider, to);
    if (accepted) bucket.submitted++;
    else bucket.submitErrors++;
  }

  recordDelivery(provider: string, to: string, outcome: DeliveryOutcome, latencyMs?: number | null): void {
    const bucket = this.bucketFor(provider, to);
    switch (outcome) {
      case 'delivered': {
        bucket.delivered++;
        if (latencyMs !== undefined && latencyMs !== null) {
          const b = bucketOf(Math.max(0, latencyMs) / 1000);
          bucket.latency.set(b, (bucket.latency.get(b) ?? 0) + 1);
        }
        break;
      }
      case 'failed':
        bucket.failed++;
        break;
      case 'missing':
        bucket.reportsMissing++;
        break;
      default:
        outcome satisfies never;
    }
  }

  /** Buckets waiting for the flush. */
  get size(): number {
    return this.buckets.size;
  }

  /**
   * Everything counted so far, ordered by provider, country and minute (so that concurrent
   * flushes of several processes lock the table's rows in one order and cannot deadlock),
   * and forgets it.
   */
  take(): QualityBucket[] {
    const taken = [...this.buckets.values()];
    this.buckets = new Map();
    return taken.sort((a, b) => compare(a.provider, b.provider) || compare(a.country, b.country) || a.minute - b.minute);
  }

  /** Adds buckets back (a flush that failed): counted again by the next flush. */
  restore(buckets: readonly QualityBucket[]): void {
    for (const from of buckets) {
      const into = this.bucketAt(from.provider, from.country, from.minute);
      into.submitted += from.submitted;
      into.submitErrors += from.submitErrors;
      into.delivered += from.delivered;
      into.failed += from.failed;
      into.reportsMissing += from.reportsMissing;
      for (const [b, n] of from.latency) into.latency.set(b, (into.latency.get(b) ?? 0) + n);
    }
  }

  private bucketFor(provider: string, to: string): QualityBucket {
    return this.bucketAt(provider, this.countryOf(to), minuteOf(this.now(), this.bucketMs));
  }

  private bucketAt(provider: string, country: string, minute: number): QualityBucket {
    const key = `${provider}\u0000${country}\u0000${minute}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { provider, country, minute, ...ZERO_COUNTS, latency: new Map() };
      this.buckets.set(key, bucket);
    }
    return bucket;
  }
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

// ---- Figures ------------------------------------------------------------------------------------

/** One window's figures for one provider and country. */
export interface QualityFigures extends QualityCounts {
  windowSeconds: number;
  /** submitErrors / (submitted + submitErrors); null without submissions. */
  submitErrorRate: number | null;
  /** delivered / (delivered + failed + reportsMissing); null without any of them. */
  deliveryRate: number | null;
  /** reportsMissing / submitted; null without submissions accepted. */
  reportsMissingShare: number | null;
  /** SENT → DELIVERED percentiles in ms, from the buckets (within ±4.4 %); null without any. */
  deliveryP50Ms: number | null;
  deliveryP95Ms: number | null;
}

/** A provider's quality for one destination country, per window. */
export type ProviderCountryQuality = { provider: string; country: string } & Record<QualityWindowName, QualityFigures>;

/** Figures from a window's summed counts and latency histogram. */
export function qualityFigures(window: Pick<QualityWindow, 'minutes'>, counts: QualityCounts, latency: Histogram, bucketMs = MINUTE_MS): QualityFigures {
  const submissions = counts.submitted + counts.submitErrors;
  const outcomes = counts.delivered + counts.failed + counts.reportsMissing;
  const p50 = histogramQuantile(latency, 0.5);
  const p95 = histogramQuantile(latency, 0.95);
  return {
    windowSeconds: (window.minutes * bucketMs) / 1000,
    ...counts,
    submitErrorRate: submissions === 0 ? null : counts.submitErrors / submissions,
    deliveryRate: outcomes === 0 ? null : counts.delivered / outcomes,
    reportsMissingShare: counts.submitted === 0 ? null : counts.reportsMissing / counts.submitted,
    deliveryP50Ms: p50 === null ? null : p50 * 1000,
    deliveryP95Ms: p95 === null ? null : p95 * 1000,
  };
}

/** A window's sums as the reader's SQL returns them: counts per pair, latency per pair and bucket. */
export interface WindowCountsRow extends QualityCounts {
  window: string;
  provider: string;
  country: string;
}
export interface WindowLatencyRow {
  window: string;
  provider: string;
  country: string;
  bucket: number;
  count: number;
}

/**
 * Every (provider, country) pair that has counts in some window, with the figures of each window
 * (zeros and nulls where a window has none), ordered by provider then country.
 */
export function assembleQuality(counts: readonly WindowCountsRow[], latency: readonly WindowLatencyRow[], bucketMs = MINUTE_MS): ProviderCountryQuality[] {
  const pairs = new Map<string, { provider: string; country: string; counts: Map<string, QualityCounts>; latency: Map<string, Histogram> }>();
  const pairOf = (row: { provider: string; country: string }) => {
    const key = `${row.provider}\u0000${row.country}`;
    let pair = pairs.get(key);
    if (!pair) {
      pair = { provider: row.provider, country: row.country, counts: new Map(), latency: new Map() };
      pairs.set(key, pair);
    }
    return pair;
  };
  for (const row of counts) {
    const { submitted, submitErrors, delivered, failed, reportsMissing } = row;
    pairOf(row).counts.set(row.window, { submitted, submitErrors, delivered, failed, reportsMissing });
  }
  for (const row of latency) {
    const pair = pairOf(row);
    const histogram = pair.latency.get(row.window) ?? new Map<number, number>();
    histogram.set(row.bucket, (histogram.get(row.bucket) ?? 0) + row.count);
    pair.latency.set(row.window, histogram);
  }
  return [...pairs.values()]
    .sort((a, b) => compare(a.provider, b.provider) || compare(a.country, b.country))
    .map((pair) => ({ provider: pair.provider, country: pair.country, ...figuresByWindow(pair.counts, pair.latency, bucketMs) }));
}

/**
 * What the reader's SQL computes (src/store/provider-quality.ts), in TypeScript: minute buckets
 * summed per window as of `nowMs`. For tests, which hold the two to the same answers.
 */
export function sumWindows(buckets: readonly QualityBucket[], nowMs: number, bucketMs = MINUTE_MS): ProviderCountryQuality[] {
  const counts = new Map<string, WindowCountsRow>();
  const latency = new Map<string, WindowLatencyRow>();
  for (const w of qualityWindows) {
    const since = windowStart(nowMs, w.minutes, bucketMs);
    for (const b of buckets) {
      if (b.minute < since) continue;
      const key = `${w.name}\u0000${b.provider}\u0000${b.country}`;
      const row = counts.get(key) ?? { window: w.name, provider: b.provider, country: b.country, ...ZERO_COUNTS };
      row.submitted += b.submitted;
      row.submitErrors += b.submitErrors;
      row.delivered += b.delivered;
      row.failed += b.failed;
      row.reportsMissing += b.reportsMissing;
      counts.set(key, row);
      for (const [bucket, n] of b.latency) {
        const at = `${key}\u0000${bucket}`;
        const l = latency.get(at) ?? { window: w.name, provider: b.provider, country: b.country, bucket, count: 0 };
        l.count += n;
        latency.set(at, l);
      }
    }
  }
  return assembleQuality([...counts.values()], [...latency.values()], bucketMs);
}

/** The figures of a pair with no data at all (asked for by country). */
export function emptyQuality(provider: string, country: string): ProviderCountryQuality {
  return { provider, country, ...figuresByWindow(new Map(), new Map()) };
}

function figuresByWindow(counts: ReadonlyMap<string, QualityCounts>, latency: ReadonlyMap<string, Histogram>, bucketMs = MINUTE_MS): Record<QualityWindowName, QualityFigures> {
  return Object.fromEntries(
    qualityWindows.map((w) => [w.name, qualityFigures(w, counts.get(w.name) ?? ZERO_COUNTS, latency.get(w.name) ?? new Map(), bucketMs)]),
  ) as Record<QualityWindowName, QualityFigures>;
}

/**
 * One provider's entries: every country it has data for (ordered by country), or, when a country
 * is asked for, exactly that country's (zeros and nulls without data). `country` is an ISO 3166
 * alpha-2 code, in either case ("ZZ": numbers placed in no country).
 */
export function selectQuality(all: readonly ProviderCountryQuality[], provider: string, country?: string | null): ProviderCountryQuality[] | ValidationError {
  if (country === undefined || country === null) return all.filter((q) => q.provider === provider);
  const code = country.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(code)) return new ValidationError([{ path: ['country'], message: 'must be an ISO 3166 alpha-2 country code like US or DE' }]);
  return [all.find((q) => q.provider === provider && q.country === code) ?? emptyQuality(provider, code)];
}

/** Outcomes a window's figures rest on: reports that came, and reports that never did. */
export function outcomesOf(figures: QualityCounts): number {
  return figures.delivered + figures.failed + figures.reportsMissing;
}

/**
 * The window routing judges a provider by: the shortest with at least `minSamples` outcomes
 * (5 minutes, then the hour, then 24 hours), else the 24 hours (which then cannot judge:
 * too few samples). The shortest window forgets fastest: a drop shows within minutes, and a
 * recovered provider is judged again by recent outcomes once the bad ones leave the 5 minutes,
 * as long as exploration gives it `minSamples` outcomes there (docs/providers.md, "How fast
 * routing reacts", states the bounds).
 */
export function judgedWindow(quality: ProviderCountryQuality | undefined, minSamples: number): QualityFigures | undefined {
  if (!quality) return undefined;
  return qualityWindows.map((w) => quality[w.name]).find((figures) => outcomesOf(figures) >= minSamples) ?? quality.last24Hours;
}

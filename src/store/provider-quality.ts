// Measured provider quality in the database: the flush that adds one process's minute counts into
// the shared tables (ProviderQualityMinute, ProviderQualityLatency), the deletion of minutes past
// retention, and the reader that sums a window's minutes for every (provider, country) pair.
// What is counted and why in minutes: src/domain/provider-quality.ts.
import type { PrismaClient } from '../db/database.js';
import {
  assembleQuality,
  MINUTE_MS,
  QUALITY_RETENTION_BUCKETS,
  qualityWindows,
  windowStart,
  type ProviderCountryQuality,
  type QualityAggregator,
  type QualityBucket,
  type WindowCountsRow,
  type WindowLatencyRow,
} from '../domain/provider-quality.js';
import { Prisma } from '../generated/prisma/client.js';

export interface ProviderQualityStore {
  /** Where this process counts: the provider pool, status changes and synthetic expiries record into it. */
  readonly aggregator: QualityAggregator;
  /**
   * Adds what this process counted since the last flush into the shared tables, in one statement
   * (nothing when nothing was counted). Counts of a flush that fails are kept for the next one.
   * Returns the number of minute buckets written.
   */
  flush(): Promise<number>;
  /** Deletes minute buckets past retention, at most `limit` rows per table; returns the rows deleted. */
  prune(limit?: number): Promise<number>;
  /**
   * Every (provider, country) pair with outcomes in the last 24 h and its figures per window:
   * two grouped queries, the answer shared by every caller for `cacheMs` (routing may ask per
   * message; the figures move with the flushes, every couple of seconds, anyway).
   */
  read(): Promise<ProviderCountryQuality[]>;
}

export interface ProviderQualityStoreOptions {
  /** Request handlers' client: reads. */
  prisma: PrismaClient;
  /** Background work's client: the flush and the deletions. */
  background: PrismaClient;
  aggregator: QualityAggregator;
  /** How long one read's answer is reused. Default 2000. */
  cacheMs?: number;
  /** One bucket (QUALITY_BUCKET_MS): a minute, shorter only to compress time. Default 60 000. */
  bucketMs?: number;
  now?: () => number;
}

export function createProviderQualityStore(options: ProviderQualityStoreOptions): ProviderQualityStore {
  const { prisma, background, aggregator } = options;
  const now = options.now ?? Date.now;
  const cacheMs = options.cacheMs ?? 2_000;
  const bucketMs = options.bucketMs ?? MINUTE_MS;
  let cached: { at: number; answer: Promise<ProviderCountryQuality[]> } | undefined;

  async function readNow(): Promise<ProviderCountryQuality[]> {
    const at = now();
    // The windows as rows: one grouped scan answers all three.
    const windows = Prisma.join(qualityWindows.map((w) => Prisma.sql`(${w.name}::text, ${new Date(windowStart(at, w.minutes, bucketMs))}::timestamptz)`));
    const [counts, latency] = await Promise.all([
      prisma.$queryRaw<WindowCountsRow[]>`
        SELECT w.name AS "window", q.provider, q.country,
          SUM(q.submitted)::int AS submitted, SUM(q."submitErrors")::int AS "submitErrors", SUM(q.delivered)::int AS delivered,
          SUM(q.failed)::int AS failed, SUM(q."reportsMissing")::int AS "reportsMissing"
        FROM (VALUES ${windows}) AS w(name, since)
        JOIN "ProviderQualityMinute" q ON q.minute >= w.since
        GROUP BY w.name, q.provider, q.country`,
      prisma.$queryRaw<WindowLatencyRow[]>`
        SELECT w.name AS "window", l.provider, l.country, l.bucket, SUM(l.count)::int AS count
        FROM (VALUES ${windows}) AS w(name, since)
        JOIN "ProviderQualityLatency" l ON l.minute >= w.since
        GROUP BY w.name, l.provider, l.country, l.bucket`,
    ]);
    return assembleQuality(counts, latency, bucketMs);
  }

  return {
    aggregator,

    async flush() {
      const buckets = aggregator.take();
      if (buckets.length === 0) return 0;
      try {
        await writeBuckets(background, buckets);
      } catch (error) {
        aggregator.restore(buckets);
        throw error;
      }
      return buckets.length;
    },

    async prune(limit = 5_000) {
      const before = new Date(now() - QUALITY_RETENTION_BUCKETS * bucketMs);
      // ctid batches: a bounded delete that takes no lock on rows still counted into.
      const counts = await background.$executeRaw`
        DELETE FROM "ProviderQualityMinute" WHERE ctid = ANY(ARRAY(
          SELECT ctid FROM "ProviderQualityMinute" WHERE minute < ${before} LIMIT ${limit}))`;
      const latency = await background.$executeRaw`
        DELETE FROM "ProviderQualityLatency" WHERE ctid = ANY(ARRAY(
          SELECT ctid FROM "ProviderQualityLatency" WHERE minute < ${before} LIMIT ${limit}))`;
      return counts + latency;
    },

    read() {
      const at = now();
      if (cached && at - cached.at < cacheMs) return cached.answer;
      const answer = readNow();
      const entry = { at, answer };
      cached = entry;
      // A failed read is not kept: the next caller asks again.
      answer.catch(() => {
        if (cached === entry) cached = undefined;
      });
      return answer;
    },
  };
}

/**
 * One statement: the counts (adding to rows other processes wrote) and, in the same statement,
 * the latency buckets. Rows come sorted (QualityAggregator.take) and are inserted in that order,
 * so two processes flushing the same minutes lock them in the same order.
 */
async function writeBuckets(db: PrismaClient, buckets: readonly QualityBucket[]): Promise<void> {
  const latency = buckets.flatMap((b) => [...b.latency].sort(([x], [y]) => x - y).map(([bucket, count]) => ({ ...b, bucket, count })));
  const minute = (ms: number) => new Date(ms);
  await db.$executeRaw`
    WITH counts AS (
      INSERT INTO "ProviderQualityMinute" AS t (provider, country, minute, submitted, "submitErrors", delivered, failed, "reportsMissing")
      SELECT u.provider, u.country, u.minute, u.submitted, u."submitErrors", u.delivered, u.failed, u."reportsMissing"
      FROM unnest(${buckets.map((b) => b.provider)}::text[], ${buckets.map((b) => b.country)}::text[], ${buckets.map((b) => minute(b.minute))}::timestamptz[],
                  ${buckets.map((b) => b.submitted)}::int[], ${buckets.map((b) => b.submitErrors)}::int[], ${buckets.map((b) => b.delivered)}::int[],
                  ${buckets.map((b) => b.failed)}::int[], ${buckets.map((b) => b.reportsMissing)}::int[])
        WITH ORDINALITY AS u(provider, country, minute, submitted, "submitErrors", delivered, failed, "reportsMissing", n)
      ORDER BY u.n
      ON CONFLICT (provider, country, minute) DO UPDATE SET
        submitted = t.submitted + excluded.submitted, "submitErrors" = t."submitErrors" + excluded."submitErrors",
        delivered = t.delivered + excluded.delivered, failed = t.failed + excluded.failed,
        "reportsMissing" = t."reportsMissing" + excluded."reportsMissing"
    )
    INSERT INTO "ProviderQualityLatency" AS t (provider, country, minute, bucket, count)
    SELECT l.provider, l.country, l.minute, l.bucket, l.count
    FROM unnest(${latency.map((l) => l.provider)}::text[], ${latency.map((l) => l.country)}::text[], ${latency.map((l) => minute(l.minute))}::timestamptz[],
                ${latency.map((l) => l.bucket)}::int[], ${latency.map((l) => l.count)}::int[])
      WITH ORDINALITY AS l(provider, country, minute, bucket, count, n)
    ORDER BY l.n
    ON CONFLICT (provider, country, minute, bucket) DO UPDATE SET count = t.count + excluded.count`;
}

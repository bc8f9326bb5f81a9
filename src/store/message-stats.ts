// The aggregates over messages themselves: messageStats' exact aggregate (one query over the
// account's messages in [from, to), grouped by one dimension, with the all-groups total in the
// same pass: GROUPING SETS; the range is read through the ("accountId", "createdAt") index), its
// live part (the same messages in a few time intervals, counted with histograms of times to
// delivery, to be added to the rollup's: message-stats-rollup.ts), and the /metrics count by
// status and provider.
import type { PrismaClient } from '../db/database.js';
import type { StatsPart } from '../domain/stats-histogram.js';
import type { StatsCounts, StatsGroupBy } from '../domain/stats.js';
import { Prisma } from '../generated/prisma/client.js';
import { countryKey, DELIVERY_SECONDS, deliveryBucketSql } from './stats-sql.js';

export interface StatsRange {
  accountId: string;
  from: Date;
  to: Date;
}

/** Time intervals [from, to) of one account's messages (by "createdAt"). */
export interface StatsIntervals {
  accountId: string;
  intervals: readonly { from: Date; to: Date }[];
}

/** One row of the aggregate: a group's counts, or (isTotal) every group's. */
export interface StatsRow extends StatsCounts {
  /** The group's key (a day as YYYY-MM-DD, a status, …); null for messages without one. */
  key: string | null;
  isTotal: boolean;
  segments: number;
  /** Median of deliveredAt - createdAt over the group's DELIVERED messages, in seconds. */
  medianSeconds: number | null;
}

/** The aggregate statement's row as PostgreSQL names it. */
type AggregateRow = StatsCounts & { key: string | null; is_total: number; segments: number; median: number | null };
/** The live part's row: a group's counts and its delivered messages by histogram bucket. */
export type PartRow = StatsCounts & { key: string | null; segments: number; buckets: number[]; counts: number[] };

/** A group's cost in one currency: the sum of "estimatedCostMicros" of its messages that have one. */
export interface CostRow {
  key: string | null;
  isTotal: boolean;
  currency: string;
  micros: bigint;
}

/** One row of the /metrics count. */
interface StatusCountRow {
  status: string;
  provider: string | null;
  count: bigint | number;
}

export interface MessageStatsReads {
  /** The groups of the range by `groupBy`, and the total row, with exact medians. */
  aggregate(range: StatsRange, groupBy: StatsGroupBy): Promise<StatsRow[]>;
  /** The groups of the intervals by `groupBy`, with histograms instead of medians (no total row). */
  liveParts(where: StatsIntervals, groupBy: StatsGroupBy): Promise<StatsPart[]>;
  /** Per group and currency, the sum of the messages' recorded estimated costs, and (isTotal) every group's. */
  costs(range: StatsRange, groupBy: StatsGroupBy): Promise<CostRow[]>;
  /** The same over time intervals, without the total rows (the live part beside the rollup's). */
  liveCosts(where: StatsIntervals, groupBy: StatsGroupBy): Promise<CostRow[]>;
  /** Names of these templates of the account (deleted ones too: their messages still count). */
  templateNames(accountId: string, ids: string[]): Promise<Map<string, string>>;
  /** Every message in the database counted by status and provider (null: none chosen yet). */
  countByStatusAndProvider(): Promise<{ status: string; provider: string | null; count: number }[]>;
}

/** The counts every statement here computes over `s` (rows with status and segments). */
const COUNTS = Prisma.sql`count(*)::int AS total,
  count(*) FILTER (WHERE s.status = 'DELIVERED')::int AS delivered,
  count(*) FILTER (WHERE s.status = 'UNDELIVERED')::int AS undelivered,
  count(*) FILTER (WHERE s.status = 'FAILED')::int AS failed,
  count(*) FILTER (WHERE s.status = 'REJECTED')::int AS rejected,
  count(*) FILTER (WHERE s.status = 'EXPIRED')::int AS expired,
  count(*) FILTER (WHERE s.status = 'CANCELED')::int AS canceled,
  count(*) FILTER (WHERE s.status IN ('SCHEDULED', 'QUEUED', 'SENDING', 'SENT'))::int AS "inFlight",
  coalesce(sum(s.segments), 0)::float8 AS segments`;

/** Sums of COUNTS over `g`, rows already grouped. */
export const SUMMED_COUNTS = Prisma.sql`sum(g.total)::int AS total, sum(g.delivered)::int AS delivered,
  sum(g.undelivered)::int AS undelivered, sum(g.failed)::int AS failed, sum(g.rejected)::int AS rejected,
  sum(g.expired)::int AS expired, sum(g.canceled)::int AS canceled, sum(g."inFlight")::int AS "inFlight",
  sum(g.segments)::float8 AS segments`;

/** Longer than most store factories: the aggregate statement is one piece of SQL, kept whole to be read. */
export function createMessageStatsReads(prisma: PrismaClient): MessageStatsReads {
  /** The group key of `m` (DAY: a date, formatted once per group by `label`), and the join it needs. */
  async function groupKey(where: Prisma.Sql, groupBy: StatsGroupBy): Promise<{ key: Prisma.Sql; join: Prisma.Sql }> {
    switch (groupBy) {
      case 'DAY':
        // A date per row, formatted once per group (to_char on every row costs more than the rest).
        return { key: Prisma.sql`(m."createdAt" AT TIME ZONE 'UTC')::date`, join: Prisma.empty };
      case 'PROVIDER':
        return { key: Prisma.sql`m."provider"`, join: Prisma.empty };
      case 'STATUS':
        return { key: Prisma.sql`m."status"::text`, join: Prisma.empty };
      case 'TEMPLATE':
        return { key: Prisma.sql`m."templateId"::text`, join: Prisma.empty };
      case 'COUNTRY':
        return countryKey(prisma, where);
    }
  }
  const label = (groupBy: StatsGroupBy, key: Prisma.Sql) => (groupBy === 'DAY' ? Prisma.sql`to_char(${key}, 'YYYY-MM-DD')` : key);

  /**
   * Costs summed exactly in SQL (bigint micros, never a float), per key and currency; a message
   * without a recorded cost (no price known when a provider took it, or not taken yet) adds nothing.
   */
  async function costRows(where: Prisma.Sql, groupBy: StatsGroupBy, withTotal: boolean): Promise<CostRow[]> {
    const { key, join } = await groupKey(where, groupBy);
    const rows = await prisma.$queryRaw<{ key: string | null; is_total: number; currency: string; micros: bigint }[]>`
      SELECT ${label(groupBy, Prisma.sql`s.key`)} AS key, ${withTotal ? Prisma.sql`GROUPING(s.key)` : Prisma.sql`0`}::int AS is_total,
        s.currency, sum(s.cost)::bigint AS micros
      FROM (
        SELECT ${key} AS key, m."costCurrency" AS currency, m."estimatedCostMicros" AS cost
        FROM "Message" m ${join}
        WHERE ${where} AND m."estimatedCostMicros" IS NOT NULL
      ) s
      GROUP BY ${withTotal ? Prisma.sql`GROUPING SETS ((s.key, s.currency), (s.currency))` : Prisma.sql`s.key, s.currency`}`;
    return rows.map((r) => ({ key: r.key, isTotal: r.is_total === 1, currency: r.currency, micros: BigInt(r.micros) }));
  }

  return {
    async aggregate(range, groupBy) {
      const where = rangeWhere(range);
      const { key, join } = await groupKey(where, groupBy);
      // The median sorts every delivered row of the range: with PostgreSQL's default 4 MB work_mem a
      // year of a busy account spills that sort to disk. JIT compiling this statement cost more than
      // it saved (1.39 → 1.22 s at a million rows with it off). SET LOCAL lasts for this transaction.
      const [, , rows] = await prisma.$transaction([prisma.$executeRaw`SET LOCAL work_mem = '64MB'`, prisma.$executeRaw`SET LOCAL jit = off`, prisma.$queryRaw<AggregateRow[]>`
        SELECT ${label(groupBy, Prisma.sql`s.key`)} AS key, GROUPING(s.key)::int AS is_total, ${COUNTS},
          percentile_cont(0.5) WITHIN GROUP (ORDER BY s.seconds) FILTER (WHERE s.status = 'DELIVERED') AS median
        FROM (
          SELECT ${key} AS key, m."status"::text AS status, m."segments", ${DELIVERY_SECONDS} AS seconds
          FROM "Message" m ${join}
          WHERE ${where}
        ) s
        GROUP BY GROUPING SETS ((s.key), ())`], { timeout: 60_000 }); // Prisma's 5 s default cut off a year at 1M rows
      return rows.map(({ is_total, median, segments, ...counts }) => ({ ...counts, isTotal: is_total === 1, segments: Number(segments), medianSeconds: median }));
    },

    async liveParts({ accountId, intervals }, groupBy) {
      if (intervals.length === 0) return [];
      const where = intervalsWhere(accountId, intervals);
      const { key, join } = await groupKey(where, groupBy);
      // Grouped by key and bucket first (one hash aggregate), then by key, the buckets gathered.
      // As for the aggregate: JIT off and room to hash (every day of a range can be live, e.g. just
      // after the reconciler expired messages of each of them).
      const [, , rows] = await prisma.$transaction([prisma.$executeRaw`SET LOCAL work_mem = '64MB'`, prisma.$executeRaw`SET LOCAL jit = off`, prisma.$queryRaw<PartRow[]>`
        SELECT ${label(groupBy, Prisma.sql`g.key`)} AS key, ${SUMMED_COUNTS},
          coalesce(array_agg(g.bucket ORDER BY g.bucket) FILTER (WHERE g.bucket IS NOT NULL), '{}') AS buckets,
          coalesce(array_agg(g.total ORDER BY g.bucket) FILTER (WHERE g.bucket IS NOT NULL), '{}') AS counts
        FROM (
          SELECT s.key, s.bucket, ${COUNTS}
          FROM (
            SELECT ${key} AS key, m."status"::text AS status, m."segments", ${deliveryBucketSql()} AS bucket
            FROM "Message" m ${join}
            WHERE ${where}
          ) s
          GROUP BY s.key, s.bucket
        ) g
        GROUP BY g.key`], { timeout: 60_000 });
      return rows.map(toPart);
    },

    costs: (range, groupBy) => costRows(rangeWhere(range), groupBy, true),
    liveCosts: ({ accountId, intervals }, groupBy) => (intervals.length ? costRows(intervalsWhere(accountId, intervals), groupBy, false) : Promise.resolve([])),

    async templateNames(accountId, ids) {
      const templates = await prisma.template.findMany({ where: { accountId, id: { in: ids } }, select: { id: true, name: true } });
      return new Map(templates.map((t) => [t.id, t.name]));
    },

    async countByStatusAndProvider() {
      const rows = await prisma.$queryRaw<StatusCountRow[]>`
        SELECT status::text AS status, provider, count(*) AS count FROM "Message" GROUP BY status, provider`;
      return rows.map((row) => ({ status: row.status, provider: row.provider, count: Number(row.count) }));
    },
  };
}

/** A part as the domain adds them, from a row of counts and parallel bucket/count arrays. */
export function toPart({ key, segments, buckets, counts, ...rest }: PartRow): StatsPart {
  const { total, delivered, undelivered, failed, rejected, expired, canceled, inFlight } = rest;
  return {
    key,
    counts: { total, delivered, undelivered, failed, rejected, expired, canceled, inFlight },
    segments: Number(segments),
    histogram: new Map(buckets.map((bucket, i) => [bucket, counts[i]!])),
  };
}

/** Each interval is a range of the ("accountId", "createdAt") index; PostgreSQL ORs them. */
function intervalsWhere(accountId: string, intervals: StatsIntervals['intervals']): Prisma.Sql {
  return Prisma.sql`m."accountId" = ${accountId}::uuid AND (${Prisma.join(
    intervals.map((i) => Prisma.sql`(m."createdAt" >= ${i.from} AND m."createdAt" < ${i.to})`),
    ' OR ',
  )})`;
}

function rangeWhere(r: StatsRange): Prisma.Sql {
  return Prisma.sql`m."accountId" = ${r.accountId}::uuid AND m."createdAt" >= ${r.from} AND m."createdAt" < ${r.to}`;
}

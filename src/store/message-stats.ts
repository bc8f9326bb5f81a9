// The aggregates over messages: messageStats (one query over the account's messages in
// [from, to), grouped by one dimension, with the all-groups total in the same pass: GROUPING
// SETS; the range is read through the ("accountId", "createdAt") index) and the /metrics count
// by status and provider.
import type { PrismaClient } from '../db/database.js';
import {
  NANP_PREFIX_LENGTH,
  SHARED_PREFIX_LENGTH,
  UNKNOWN_COUNTRY,
  countryOfPrefix,
  uniqueCallingCodes,
  type StatsCounts,
  type StatsGroupBy,
} from '../domain/stats.js';
import { Prisma } from '../generated/prisma/client.js';

export interface StatsRange {
  accountId: string;
  from: Date;
  to: Date;
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

/** One row of the /metrics count. */
interface StatusCountRow {
  status: string;
  provider: string | null;
  count: bigint | number;
}

export interface MessageStatsReads {
  /** The groups of the range by `groupBy`, and the total row. */
  aggregate(range: StatsRange, groupBy: StatsGroupBy): Promise<StatsRow[]>;
  /** Names of these templates of the account (deleted ones too: their messages still count). */
  templateNames(accountId: string, ids: string[]): Promise<Map<string, string>>;
  /** Every message in the database counted by status and provider (null: none chosen yet). */
  countByStatusAndProvider(): Promise<{ status: string; provider: string | null; count: number }[]>;
}

/** Longer than most store factories: the aggregate statement is one piece of SQL, kept whole to be read. */
export function createMessageStatsReads(prisma: PrismaClient): MessageStatsReads {
  async function groupKey(range: StatsRange, groupBy: StatsGroupBy): Promise<{ key: Prisma.Sql; join: Prisma.Sql }> {
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
      case 'COUNTRY': {
        // Two steps: the prefixes present in the range, one sample number each (cheap: no sort of
        // rows, one hash aggregate); libphonenumber names their countries; then the real aggregate
        // joins that small mapping. Grouping by prefix and merging in TypeScript would be one pass,
        // but medians cannot be merged.
        const prefixes = await prisma.$queryRaw<{ prefix: string; sample: string }[]>`
          SELECT ${countryPrefixSql()} AS prefix, min(m."to") AS sample
          FROM "Message" m WHERE ${rangeWhere(range)} GROUP BY 1`;
        const mapping = prefixes.map((p) => Prisma.sql`(${p.prefix}, ${countryOfPrefix(p.prefix, p.sample)})`);
        if (!mapping.length) return { key: Prisma.sql`${UNKNOWN_COUNTRY}::text`, join: Prisma.empty };
        return {
          key: Prisma.sql`coalesce(c.country, ${UNKNOWN_COUNTRY})`,
          join: Prisma.sql`LEFT JOIN (VALUES ${Prisma.join(mapping)}) AS c(prefix, country) ON c.prefix = ${countryPrefixSql()}`,
        };
      }
    }
  }

  return {
    async aggregate(range, groupBy) {
      const { key, join } = await groupKey(range, groupBy);
      // The median sorts every delivered row of the range: with PostgreSQL's default 4 MB work_mem a
      // year of a busy account spills that sort to disk. JIT compiling this statement cost more than
      // it saved (1.39 → 1.22 s at a million rows with it off). SET LOCAL lasts for this transaction.
      const [, , rows] = await prisma.$transaction([prisma.$executeRaw`SET LOCAL work_mem = '64MB'`, prisma.$executeRaw`SET LOCAL jit = off`, prisma.$queryRaw<AggregateRow[]>`
        SELECT ${groupBy === 'DAY' ? Prisma.sql`to_char(s.key, 'YYYY-MM-DD')` : Prisma.sql`s.key`} AS key, GROUPING(s.key)::int AS is_total,
          count(*)::int AS total,
          count(*) FILTER (WHERE s.status = 'DELIVERED')::int AS delivered,
          count(*) FILTER (WHERE s.status = 'UNDELIVERED')::int AS undelivered,
          count(*) FILTER (WHERE s.status = 'FAILED')::int AS failed,
          count(*) FILTER (WHERE s.status = 'REJECTED')::int AS rejected,
          count(*) FILTER (WHERE s.status = 'EXPIRED')::int AS expired,
          count(*) FILTER (WHERE s.status = 'CANCELED')::int AS canceled,
          count(*) FILTER (WHERE s.status IN ('SCHEDULED', 'QUEUED', 'SENDING', 'SENT'))::int AS "inFlight",
          coalesce(sum(s.segments), 0)::float8 AS segments,
          percentile_cont(0.5) WITHIN GROUP (ORDER BY s.seconds) FILTER (WHERE s.status = 'DELIVERED') AS median
        FROM (
          SELECT ${key} AS key, m."status"::text AS status, m."segments",
            extract(epoch FROM m."deliveredAt" - m."createdAt")::float8 AS seconds
          FROM "Message" m ${join}
          WHERE ${rangeWhere(range)}
        ) s
        GROUP BY GROUPING SETS ((s.key), ())`], { timeout: 60_000 }); // Prisma's 5 s default cut off a year at 1M rows
      return rows.map(({ is_total, median, segments, ...counts }) => ({ ...counts, isTotal: is_total === 1, segments: Number(segments), medianSeconds: median }));
    },

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

function rangeWhere(r: StatsRange): Prisma.Sql {
  return Prisma.sql`m."accountId" = ${r.accountId}::uuid AND m."createdAt" >= ${r.from} AND m."createdAt" < ${r.to}`;
}

/**
 * SQL twin of countryPrefix() in src/domain/stats.ts. The calling codes are digits from
 * libphonenumber's metadata, written as a constant array so PostgreSQL hashes the lookup once
 * instead of comparing each row with 200 bind parameters.
 */
function countryPrefixSql(): Prisma.Sql {
  const codes = uniqueCallingCodes();
  if (!codes.every((c) => /^\+\d{1,3}$/.test(c))) throw new Error('unexpected calling code in libphonenumber metadata');
  const array = Prisma.raw(`ARRAY[${codes.map((c) => `'${c}'`).join(',')}]::text[]`);
  return Prisma.sql`(CASE
    WHEN left(m."to", 2) = ANY(${array}) THEN left(m."to", 2)
    WHEN left(m."to", 3) = ANY(${array}) THEN left(m."to", 3)
    WHEN left(m."to", 4) = ANY(${array}) THEN left(m."to", 4)
    WHEN left(m."to", 2) = '+1' THEN left(m."to", ${Prisma.raw(String(NANP_PREFIX_LENGTH))})
    ELSE left(m."to", ${Prisma.raw(String(SHARED_PREFIX_LENGTH))}) END)`;
}

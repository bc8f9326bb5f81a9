// messageStats' rollup: per account, UTC day and dimension, the counts by status and a histogram of
// times to delivery ("MessageStatsRollup"), written by a background loop (services/
// message-stats-rollup.ts) for days that are over, never by the send and status paths. A query adds
// the rolled-up days of its range to a live count of the rest (message-stats.ts, liveParts).
//
// When a day is rolled and how it stays right:
// - A day is rolled up once it has been over for GRACE_MS (an hour and five minutes). Changes to a
//   message within LATE_CHANGE_MS (an hour) of its creation, and the creation itself, are then
//   committed, provided a write commits within MARGIN_MS (five minutes) of the "updatedAt" or
//   "createdAt" it stamps (clock differences between instances and the database included; the
//   status writers stamp and commit within a transaction of milliseconds to seconds).
// - Any later change (a late delivery report, the reconciler's EXPIRED, a scheduled message sent)
//   has "updatedAt" - "createdAt" over an hour, and so is in the partial index
//   "Message_late_change_idx" (only such changes are: senders pay nothing for it). Each pass
//   looks at the late changes stamped after MessageStatsRollupState.checkedUntil and at least
//   MARGIN_MS ago (so certainly committed: each change is looked at once), moves checkedUntil up
//   to now - MARGIN_MS, and marks dirty the days those changes belong to, unless the day was
//   rolled after them (stamped before its coveredUntil = roll time - MARGIN_MS); dirty days are
//   rolled again, oldest account first.
// - A query uses a day's rollup only if it is not dirty and has no late change since
//   checkedUntil (looked up in the same partial index); every other part of the range is counted
//   live. So counts are exact whatever the loop's progress. How stale a rollup row can be: after
//   a late change, until a pass has marked its day and rolled it again, i.e. MARGIN_MS plus one
//   poll interval (STATS_ROLLUP_POLL_MS, a minute) plus a pass: about 6 minutes; longer only while
//   the loop catches up or no instance runs it. But a stale row is never read: the day is counted
//   live meanwhile.
// - Several instances on one PostgreSQL: each step takes pg_try_advisory_xact_lock(LOCK_KEY) and
//   skips the pass when another holds it; a roll deletes and rewrites the day in one transaction,
//   so even two rolls of one day would not double-count.
// - Retention (store/retention.ts) deletes a day's messages only once the day is rolled and clean,
//   and stamps its "purgedAt" first: from then on its rollup is final (never marked dirty, always
//   read), since the rows it came from are going.
import type { PrismaClient } from '../db/database.js';
import type { StatsPart } from '../domain/stats-histogram.js';
import type { StatsGroupBy } from '../domain/stats.js';
import { Prisma } from '../generated/prisma/client.js';
import { SUMMED_COUNTS, toPart, type CostRow, type PartRow } from './message-stats.js';
import { countryKey, deliveryBucketSql, LATE_CHANGE, LATE_CHANGE_MS } from './stats-sql.js';

/** How long after its commit a write's own "updatedAt"/"createdAt" may lie (transaction length, clock skew). */
export const MARGIN_MS = 5 * 60_000;
/** How long a day must have been over before it is rolled up. */
export const GRACE_MS = LATE_CHANGE_MS + MARGIN_MS;
/** hashtextextended('herald:stats-rollup', 0), written out: one lock for every instance's loop. */
/** Also taken by retention while it deletes a day's messages (store/retention.ts): no roll sees half a day. */
export const LOCK_KEY = Prisma.raw(`hashtextextended('herald:stats-rollup', 0)`);
const interval = (ms: number) => Prisma.raw(`interval '${ms / 1000} seconds'`);

/** A UTC day as YYYY-MM-DD. */
type Day = string;

/** What one step of the loop did. */
export type RollStep =
  | { kind: 'locked' } // another instance holds the lock: it does the work
  | { kind: 'idle' } // nothing to roll
  | { kind: 'rolled'; accountId: string; from: Day; to: Day; days: number; reason: 'new' | 'dirty' };

export interface MessageStatsRollup {
  /**
   * Marks dirty the rolled days that changed since the last call and moves the watermark on.
   * False when another instance holds the lock.
   */
  markChanged(): Promise<boolean>;
  /** Rolls up the next piece of work, dirty days first, at most `maxDays` days of one account. */
  rollNext(maxDays: number): Promise<RollStep>;
  /** The days in [fromDay, toDay) whose rollup of this account is current (see above), in order. */
  currentDays(accountId: string, fromDay: Day, toDay: Day): Promise<Day[]>;
  /** Whether retention deleted messages of a day that [from, to) touches (their counts live in the rollup only). */
  purgedIn(accountId: string, from: Date, to: Date): Promise<boolean>;
  /** The groups of these rolled-up days by `groupBy` (DAY: one per day). */
  parts(accountId: string, days: readonly Day[], groupBy: StatsGroupBy): Promise<StatsPart[]>;
  /** The groups' summed costs per currency over these rolled-up days ("MessageStatsCost"). */
  costParts(accountId: string, days: readonly Day[], groupBy: StatsGroupBy): Promise<CostRow[]>;
}

const dimensionOf = (groupBy: StatsGroupBy) => (groupBy === 'DAY' ? 'STATUS' : groupBy);

/**
 * `prisma` answers queries (currentDays, parts); `background` runs the loop's transactions (on
 * PostgreSQL its own small pool, so that a catch-up never waits behind a flood of requests).
 */
export function createMessageStatsRollup(
  clients: { prisma: PrismaClient; background: PrismaClient },
  /** Tests shorten the margin to see a late change rolled in without waiting five minutes. */
  options: { marginMs?: number } = {},
): MessageStatsRollup {
  const { prisma, background } = clients;
  const MARGIN = interval(options.marginMs ?? MARGIN_MS);
  /** The first UTC day not yet over for the grace: days before it may be rolled up. */
  const ELIGIBLE_END = Prisma.sql`((now() - ${interval(LATE_CHANGE_MS)} - ${MARGIN}) AT TIME ZONE 'UTC')::date`;
  type Tx = Prisma.TransactionClient;
  /** Runs `work` in a transaction holding the rollup lock; null when another instance holds it. */
  async function locked<T>(work: (tx: Tx) => Promise<T>): Promise<T | null> {
    return background.$transaction(
      async (tx) => {
        const [{ ok }] = await tx.$queryRaw<[{ ok: boolean }]>`SELECT pg_try_advisory_xact_lock(${LOCK_KEY}) AS ok`;
        return ok ? work(tx) : null;
      },
      { timeout: 10 * 60_000, maxWait: 60_000 },
    );
  }

  /** Rewrites the rollup of [from, to) of one account: its rows, and a current, clean day for each day. */
  async function roll(tx: Tx, accountId: string, from: Day, to: Day): Promise<void> {
    const where = Prisma.sql`m."accountId" = ${accountId}::uuid
      AND m."createdAt" >= (${from}::date::timestamp AT TIME ZONE 'UTC') AND m."createdAt" < (${to}::date::timestamp AT TIME ZONE 'UTC')`;
    await tx.$executeRaw`SET LOCAL work_mem = '64MB'`;
    await tx.$executeRaw`SET LOCAL jit = off`;
    await tx.$executeRaw`DELETE FROM "MessageStatsRollup" WHERE "accountId" = ${accountId}::uuid AND day >= ${from}::date AND day < ${to}::date`;
    await tx.$executeRaw`DELETE FROM "MessageStatsCost" WHERE "accountId" = ${accountId}::uuid AND day >= ${from}::date AND day < ${to}::date`;
    const country = await countryKey(tx, where);
    // Grouped by day, dimension key and bucket in one pass (GROUPING SETS), then per day and key
    // the buckets gathered. Null provider and template become "" (a primary key has no nulls).
    await tx.$executeRaw`
      INSERT INTO "MessageStatsRollup" ("accountId", day, dimension, key, total, delivered, undelivered, failed, rejected, expired,
        canceled, "inFlight", segments, "deliveryBuckets", "deliveryCounts")
      SELECT ${accountId}::uuid, g.day, g.dimension, g.key, ${SUMMED_COUNTS},
        coalesce(array_agg(g.bucket ORDER BY g.bucket) FILTER (WHERE g.bucket IS NOT NULL), '{}'),
        coalesce(array_agg(g.total ORDER BY g.bucket) FILTER (WHERE g.bucket IS NOT NULL), '{}')
      FROM (
        SELECT s.day,
          CASE WHEN GROUPING(s.status) = 0 THEN 'STATUS' WHEN GROUPING(s.provider) = 0 THEN 'PROVIDER'
               WHEN GROUPING(s.country) = 0 THEN 'COUNTRY' ELSE 'TEMPLATE' END AS dimension,
          coalesce(s.status, s.provider, s.country, s.template) AS key, s.bucket,
          count(*)::int AS total,
          count(*) FILTER (WHERE s.status = 'DELIVERED')::int AS delivered,
          count(*) FILTER (WHERE s.status = 'UNDELIVERED')::int AS undelivered,
          count(*) FILTER (WHERE s.status = 'FAILED')::int AS failed,
          count(*) FILTER (WHERE s.status = 'REJECTED')::int AS rejected,
          count(*) FILTER (WHERE s.status = 'EXPIRED')::int AS expired,
          count(*) FILTER (WHERE s.status = 'CANCELED')::int AS canceled,
          count(*) FILTER (WHERE s.status IN ('SCHEDULED', 'QUEUED', 'SENDING', 'SENT'))::int AS "inFlight",
          sum(s.segments)::bigint AS segments
        FROM (
          SELECT (m."createdAt" AT TIME ZONE 'UTC')::date AS day, m."status"::text AS status, coalesce(m."provider", '') AS provider,
            coalesce(m."templateId"::text, '') AS template, ${country.key} AS country, m."segments", ${deliveryBucketSql()} AS bucket
          FROM "Message" m ${country.join}
          WHERE ${where}
        ) s
        GROUP BY GROUPING SETS ((s.day, s.status, s.bucket), (s.day, s.provider, s.bucket), (s.day, s.country, s.bucket), (s.day, s.template, s.bucket))
      ) g
      GROUP BY g.day, g.dimension, g.key`;
    // Costs per day, dimension key and currency, exact bigint sums; only messages with a cost.
    await tx.$executeRaw`
      INSERT INTO "MessageStatsCost" ("accountId", day, dimension, key, currency, "costMicros", priced)
      SELECT ${accountId}::uuid, s.day,
        CASE WHEN GROUPING(s.status) = 0 THEN 'STATUS' WHEN GROUPING(s.provider) = 0 THEN 'PROVIDER'
             WHEN GROUPING(s.country) = 0 THEN 'COUNTRY' ELSE 'TEMPLATE' END,
        coalesce(s.status, s.provider, s.country, s.template), s.currency, sum(s.cost)::bigint, count(*)::int
      FROM (
        SELECT (m."createdAt" AT TIME ZONE 'UTC')::date AS day, m."status"::text AS status, coalesce(m."provider", '') AS provider,
          coalesce(m."templateId"::text, '') AS template, ${country.key} AS country, m."costCurrency" AS currency, m."estimatedCostMicros" AS cost
        FROM "Message" m ${country.join}
        WHERE ${where} AND m."estimatedCostMicros" IS NOT NULL
      ) s
      GROUP BY GROUPING SETS ((s.day, s.currency, s.status), (s.day, s.currency, s.provider), (s.day, s.currency, s.country), (s.day, s.currency, s.template))`;
    // now() is when this transaction began, before its snapshot: conservative for coveredUntil.
    await tx.$executeRaw`
      INSERT INTO "MessageStatsDay" ("accountId", day, "coveredUntil", dirty)
      SELECT ${accountId}::uuid, d::date, now() - ${MARGIN}, false FROM generate_series(${from}::date, ${to}::date - 1, interval '1 day') AS d
      ON CONFLICT ("accountId", day) DO UPDATE SET "coveredUntil" = EXCLUDED."coveredUntil", dirty = false`;
  }

  return {
    async markChanged() {
      const done = await locked(async (tx) => {
        // The first pass ever has rolled nothing yet: nothing to mark, only the watermark to set.
        await tx.$executeRaw`
          UPDATE "MessageStatsDay" d SET dirty = true
          FROM (
            SELECT m."accountId", (m."createdAt" AT TIME ZONE 'UTC')::date AS day, max(m."updatedAt") AS changed
            FROM "Message" m, "MessageStatsRollupState" w
            WHERE w.id = 1 AND ${LATE_CHANGE} AND m."updatedAt" > w."checkedUntil" AND m."updatedAt" <= now() - ${MARGIN}
            GROUP BY 1, 2
          ) l
          WHERE d."accountId" = l."accountId" AND d.day = l.day AND NOT d.dirty AND d."purgedAt" IS NULL AND l.changed >= d."coveredUntil"`;
        await tx.$executeRaw`
          INSERT INTO "MessageStatsRollupState" (id, "checkedUntil") VALUES (1, now() - ${MARGIN})
          ON CONFLICT (id) DO UPDATE SET "checkedUntil" = greatest("MessageStatsRollupState"."checkedUntil", EXCLUDED."checkedUntil")`;
        return true;
      });
      return done ?? false;
    },

    async rollNext(maxDays) {
      const step = await locked(async (tx): Promise<RollStep> => {
        // Dirty days first: a run of consecutive days of one account.
        const dirty = await tx.$queryRaw<{ accountId: string; day: Day }[]>`
          SELECT "accountId"::text AS "accountId", to_char(day, 'YYYY-MM-DD') AS day FROM "MessageStatsDay"
          WHERE dirty AND "accountId" = (SELECT "accountId" FROM "MessageStatsDay" WHERE dirty ORDER BY "accountId", day LIMIT 1)
          ORDER BY day LIMIT ${maxDays}`;
        if (dirty.length > 0) {
          const run = consecutive(dirty.map((d) => d.day));
          const to = addDays(run.at(-1)!, 1);
          await roll(tx, dirty[0]!.accountId, run[0]!, to);
          return { kind: 'rolled', accountId: dirty[0]!.accountId, from: run[0]!, to, days: run.length, reason: 'dirty' };
        }
        // Then new days: the first account with messages created after its last rolled day and
        // before the eligible end. The piece starts the day after that (empty days get their
        // empty rows) and ends maxDays after the first message's day.
        const [next] = await tx.$queryRaw<{ accountId: string; start: Day; first: Day; end: Day }[]>`
          SELECT a.id::text AS "accountId", to_char(coalesce(d.last + 1, f.day), 'YYYY-MM-DD') AS start,
            to_char(f.day, 'YYYY-MM-DD') AS first, to_char(${ELIGIBLE_END}, 'YYYY-MM-DD') AS end
          FROM "Account" a
          CROSS JOIN LATERAL (SELECT max(day) AS last FROM "MessageStatsDay" WHERE "accountId" = a.id) d
          CROSS JOIN LATERAL (
            SELECT (min(m."createdAt") AT TIME ZONE 'UTC')::date AS day FROM "Message" m
            WHERE m."accountId" = a.id AND m."createdAt" >= coalesce((d.last + 1)::timestamp AT TIME ZONE 'UTC', '-infinity')
          ) f
          WHERE f.day < ${ELIGIBLE_END}
          ORDER BY a.id LIMIT 1`;
        if (!next) return { kind: 'idle' };
        const to = minDay(addDays(next.first, maxDays), next.end);
        await roll(tx, next.accountId, next.start, to);
        return { kind: 'rolled', accountId: next.accountId, from: next.start, to, days: daysBetween(next.start, to), reason: 'new' };
      });
      return step ?? { kind: 'locked' };
    },

    async purgedIn(accountId, from, to) {
      const [{ purged }] = await prisma.$queryRaw<[{ purged: boolean }]>`
        SELECT EXISTS (
          SELECT 1 FROM "MessageStatsDay" WHERE "accountId" = ${accountId}::uuid AND "purgedAt" IS NOT NULL
            AND day >= (${from}::timestamptz AT TIME ZONE 'UTC')::date AND day <= (${to}::timestamptz AT TIME ZONE 'UTC')::date
        ) AS purged`;
      return purged;
    },

    async currentDays(accountId, fromDay, toDay) {
      // Late changes the loop has not looked at yet, in this range: their days are counted live.
      const rows = await prisma.$queryRaw<{ day: Day }[]>`
        WITH late AS (
          SELECT DISTINCT (m."createdAt" AT TIME ZONE 'UTC')::date AS day FROM "Message" m
          WHERE ${LATE_CHANGE}
            AND m."updatedAt" > coalesce((SELECT "checkedUntil" FROM "MessageStatsRollupState" WHERE id = 1), '-infinity')
            AND m."accountId" = ${accountId}::uuid
            AND m."createdAt" >= (${fromDay}::date::timestamp AT TIME ZONE 'UTC') AND m."createdAt" < (${toDay}::date::timestamp AT TIME ZONE 'UTC')
        )
        SELECT to_char(d.day, 'YYYY-MM-DD') AS day FROM "MessageStatsDay" d
        WHERE d."accountId" = ${accountId}::uuid AND d.day >= ${fromDay}::date AND d.day < ${toDay}::date AND NOT d.dirty
          AND (d."purgedAt" IS NOT NULL OR d.day NOT IN (SELECT day FROM late))
        ORDER BY d.day`;
      return rows.map((r) => r.day);
    },

    async parts(accountId, days, groupBy) {
      if (days.length === 0) return [];
      // Keys stay "" (no provider, no template) until the end: equal keys join by hash.
      const key = groupBy === 'DAY' ? Prisma.sql`to_char(r.day, 'YYYY-MM-DD')` : Prisma.sql`r.key`;
      const rows = await prisma.$queryRaw<PartRow[]>`
        WITH r AS (
          SELECT ${key} AS key, r.total, r.delivered, r.undelivered, r.failed, r.rejected, r.expired, r.canceled, r."inFlight", r.segments,
            r."deliveryBuckets", r."deliveryCounts"
          FROM "MessageStatsRollup" r
          WHERE r."accountId" = ${accountId}::uuid AND r.dimension = ${dimensionOf(groupBy)} AND r.day = ANY(${days}::date[])
        ),
        c AS (SELECT g.key, ${SUMMED_COUNTS} FROM r AS g GROUP BY g.key),
        h AS (
          SELECT r.key, u.bucket, sum(u.n)::int AS n FROM r, unnest(r."deliveryBuckets", r."deliveryCounts") AS u(bucket, n) GROUP BY 1, 2
        ),
        hk AS (
          SELECT h.key, array_agg(h.bucket ORDER BY h.bucket) AS buckets, array_agg(h.n ORDER BY h.bucket) AS counts FROM h GROUP BY h.key
        )
        SELECT c.*, coalesce(hk.buckets, '{}') AS buckets, coalesce(hk.counts, '{}') AS counts
        FROM c LEFT JOIN hk ON hk.key = c.key`;
      return rows.map((row) => toPart({ ...row, key: row.key === '' ? null : row.key }));
    },

    async costParts(accountId, days, groupBy) {
      if (days.length === 0) return [];
      const key = groupBy === 'DAY' ? Prisma.sql`to_char(c.day, 'YYYY-MM-DD')` : Prisma.sql`c.key`;
      const rows = await prisma.$queryRaw<{ key: string; currency: string; micros: bigint }[]>`
        SELECT ${key} AS key, c.currency, sum(c."costMicros")::bigint AS micros FROM "MessageStatsCost" c
        WHERE c."accountId" = ${accountId}::uuid AND c.dimension = ${dimensionOf(groupBy)} AND c.day = ANY(${days}::date[])
        GROUP BY 1, 2`;
      return rows.map((r) => ({ key: r.key === '' ? null : r.key, isTotal: false, currency: r.currency, micros: BigInt(r.micros) }));
    },
  };
}

const DAY_MS = 86_400_000;
const addDays = (day: Day, n: number): Day => new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
const daysBetween = (from: Day, to: Day): number => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
const minDay = (a: Day, b: Day): Day => (a < b ? a : b);
/** The leading run of consecutive days of a sorted list. */
function consecutive(days: Day[]): Day[] {
  const run = [days[0]!];
  for (const day of days.slice(1)) {
    if (day !== addDays(run.at(-1)!, 1)) break;
    run.push(day);
  }
  return run;
}

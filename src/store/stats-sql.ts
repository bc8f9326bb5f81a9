// SQL pieces that messageStats' exact aggregate (message-stats.ts), its live part and the rollup
// (message-stats-rollup.ts) must write identically: a number's country prefix, the country of
// each prefix present, the histogram bucket of a time to delivery, the "late change" predicate.
import type { PrismaClient } from '../db/database.js';
import { BUCKETS_PER_DOUBLING, LAST_BUCKET, MAX_SECONDS, MIN_SECONDS } from '../domain/stats-histogram.js';
import { NANP_PREFIX_LENGTH, SHARED_PREFIX_LENGTH, UNKNOWN_COUNTRY, countryOfPrefix, uniqueCallingCodes } from '../domain/stats.js';
import { Prisma } from '../generated/prisma/client.js';

type Reader = Pick<PrismaClient, '$queryRaw'>;

/**
 * SQL twin of countryPrefix() in src/domain/stats.ts, over the alias `m` of "Message". The calling
 * codes are digits from libphonenumber's metadata, written as a constant array so PostgreSQL
 * hashes the lookup once instead of comparing each row with 200 bind parameters.
 */
export function countryPrefixSql(): Prisma.Sql {
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

/**
 * The country of each message (alias `m`) matching `where`, as a key expression and the join it
 * needs. Two steps: the prefixes present, one sample number each (one hash aggregate, no sort);
 * libphonenumber names their countries; the caller's statement joins that small mapping.
 * Grouping by prefix and merging in TypeScript would be one pass, but medians cannot be merged.
 */
export async function countryKey(db: Reader, where: Prisma.Sql): Promise<{ key: Prisma.Sql; join: Prisma.Sql }> {
  const prefixes = await db.$queryRaw<{ prefix: string; sample: string }[]>`
    SELECT ${countryPrefixSql()} AS prefix, min(m."to") AS sample FROM "Message" m WHERE ${where} GROUP BY 1`;
  const mapping = prefixes.map((p) => Prisma.sql`(${p.prefix}, ${countryOfPrefix(p.prefix, p.sample)})`);
  if (!mapping.length) return { key: Prisma.sql`${UNKNOWN_COUNTRY}::text`, join: Prisma.empty };
  return {
    key: Prisma.sql`coalesce(c.country, ${UNKNOWN_COUNTRY})`,
    join: Prisma.sql`LEFT JOIN (VALUES ${Prisma.join(mapping)}) AS c(prefix, country) ON c.prefix = ${countryPrefixSql()}`,
  };
}

/** Seconds from creation to delivery of `m`, null unless delivered. */
export const DELIVERY_SECONDS = Prisma.sql`extract(epoch FROM m."deliveredAt" - m."createdAt")::float8`;

/**
 * SQL twin of bucketOf() in src/domain/stats-histogram.ts: the histogram bucket of the DELIVERED
 * message `m` (null otherwise, and without deliveredAt). Constants are inlined: the rollup and the
 * live part must bucket alike, whatever the statement.
 */
export function deliveryBucketSql(): Prisma.Sql {
  const perLn = BUCKETS_PER_DOUBLING / Math.LN2;
  return Prisma.raw(`(CASE WHEN m."status" <> 'DELIVERED' OR m."deliveredAt" IS NULL THEN NULL
    WHEN extract(epoch FROM m."deliveredAt" - m."createdAt") < ${MIN_SECONDS} THEN 0
    WHEN extract(epoch FROM m."deliveredAt" - m."createdAt") >= ${MAX_SECONDS} THEN ${LAST_BUCKET}
    ELSE least(${LAST_BUCKET - 1}, 1 + floor(ln(extract(epoch FROM m."deliveredAt" - m."createdAt")::float8 / ${MIN_SECONDS}) * ${perLn})::int) END)`);
}

/**
 * A change to a message more than an hour after it was created: the only changes that can reach
 * a day after it was rolled up (see message-stats-rollup.ts). Written exactly as the predicate of
 * the partial index "Message_late_change_idx" (migration 20261203114605_stats_rollup), so that
 * PostgreSQL can prove a query implies it and use that index.
 */
export const LATE_CHANGE = Prisma.raw(`(m."updatedAt" - m."createdAt") > '01:00:00'::interval`);
/** The same hour in milliseconds. */
export const LATE_CHANGE_MS = 3_600_000;

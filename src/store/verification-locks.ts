// The locks that order concurrent verifications: starts to one number or range, and checks of
// one verification, and what a start reads under them. Starts to one range wait for each other,
// so what they do while holding its lock is kept to two statements (the locks, then both
// windows' reads): each statement is a round trip through a process that is busy serving
// other requests, and a range's starts per second are bounded by that time.
import { oneAtATime } from '../concurrency/one-at-a-time.js';
import type { Tx } from './db-client.js';

/** One row of lockLatest's statement. */
interface LockedVerificationRow {
  id: string;
}

/** What a start counts: earlier codes to the number, and the range's `rangeMax`-th latest. */
export interface RecentStarts {
  /** Latest first, at most `numberMax`, created after `numberSince`. */
  numberSentAt: Date[];
  /** The range's `rangeMax`-th latest code created after `rangeSince`, if it holds that many. */
  rangeNth: Date | undefined;
}

interface RecentStartsRow {
  // Dates or ISO strings, as the driver hands timestamps inside an array.
  numberSentAt: (Date | string)[] | null;
  rangeNth: Date | string | null;
}

export interface VerificationLocks {
  /**
   * Runs `work` (a start's transaction) after this process's earlier starts to the range: they
   * queue here without a connection, and only one per process waits on the range's lock.
   */
  inRangeOrder<T>(accountId: string, prefix: string, work: () => Promise<T>): Promise<T>;
  /**
   * Locks the account's latest verification to `to` (any status) until `tx` ends and returns
   * its id: a second check of it waits, then sees the first's attempt or approval.
   */
  lockLatest(tx: Tx, accountId: string, to: string): Promise<string | undefined>;
  /**
   * Holds the number's lock, then its range's, until `tx` ends: a concurrent start to the same
   * number or range waits, then counts the row this one inserts. Always in that order, so two
   * starts never wait on each other in a cycle.
   */
  lockNumberAndRange(tx: Tx, accountId: string, to: string, prefix: string): Promise<void>;
  /**
   * Reads, in one statement, the codes a start counts (after lockNumberAndRange, in a statement
   * of its own, so that its snapshot sees the row of the start that held the locks before).
   * `prefix` is `+` and digits, so it holds no LIKE wildcard.
   */
  recentStarts(
    tx: Tx,
    accountId: string,
    window: { to: string; numberSince: Date; numberMax: number; prefix: string; rangeSince: Date; rangeMax: number },
  ): Promise<RecentStarts>;
}

export function createVerificationLocks(): VerificationLocks {
  const rangeQueue = oneAtATime();
  return {
    inRangeOrder: (accountId, prefix, work) => rangeQueue(`${accountId}:${prefix}`, work),
    async lockLatest(tx, accountId, to) {
      const [locked] = await tx.$queryRaw<LockedVerificationRow[]>`
        SELECT "id"::text AS "id" FROM "Verification"
        WHERE "accountId" = ${accountId}::uuid AND "to" = ${to}
        ORDER BY "createdAt" DESC, "id" DESC
        LIMIT 1
        FOR UPDATE`;
      return locked?.id;
    },
    async lockNumberAndRange(tx, accountId, to, prefix) {
      // A select list is computed left to right: the number's lock, then the range's.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`herald:verification:to:${accountId}:${to}`}, 0)),
        pg_advisory_xact_lock(hashtextextended(${`herald:verification:prefix:${accountId}:${prefix}`}, 0))`;
    },
    async recentStarts(tx, accountId, { to, numberSince, numberMax, prefix, rangeSince, rangeMax }) {
      // The number's by ("accountId", "to", "createdAt"); the range's by ("accountId", "createdAt"),
      // newest first within its window, so neither grows with the account's history.
      const [row] = await tx.$queryRaw<RecentStartsRow[]>`
        SELECT
          ARRAY(SELECT "createdAt" FROM "Verification"
                WHERE "accountId" = ${accountId}::uuid AND "to" = ${to} AND "createdAt" > ${numberSince}
                ORDER BY "createdAt" DESC LIMIT ${numberMax}) AS "numberSentAt",
          (SELECT "createdAt" FROM "Verification"
           WHERE "accountId" = ${accountId}::uuid AND "to" LIKE ${`${prefix}%`} AND "createdAt" > ${rangeSince}
           ORDER BY "createdAt" DESC OFFSET ${rangeMax - 1} LIMIT 1) AS "rangeNth"`;
      return {
        numberSentAt: (row?.numberSentAt ?? []).map((at) => new Date(at)),
        rangeNth: row?.rangeNth == null ? undefined : new Date(row.rangeNth),
      };
    },
  };
}

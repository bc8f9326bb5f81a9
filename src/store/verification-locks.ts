// The locks that order concurrent verifications: starts to one number or range, and checks of
// one verification. The rows themselves are plain Prisma reads and writes in the services.
import type { Tx } from './db-client.js';

/** One row of lockLatest's statement. */
interface LockedVerificationRow {
  id: string;
}

export interface VerificationLocks {
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
}

export function createVerificationLocks(): VerificationLocks {
  return {
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
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`herald:verification:to:${accountId}:${to}`}, 0))`;
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`herald:verification:prefix:${accountId}:${prefix}`}, 0))`;
    },
  };
}

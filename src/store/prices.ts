// An account's price list: as cost estimates read it (previewMessage now; the dispatcher's cost
// of each message later), every row kept in memory until a change is announced
// (services/prices.ts announces each write), so a lookup is a scan of memory, not a query; and
// the bulk writes of an import.
import { v7 as uuidv7 } from 'uuid';
import type { PrismaClient } from '../db/database.js';
import type { PriceRow } from '../domain/prices.js';
import { cachedReads } from './cached-reads.js';
import type { Db } from './db-client.js';

/** How long an account's prices stay in memory when no change is announced (a lost NOTIFY). */
const PRICES_TTL_MS = 60_000;

export interface PriceReads {
  /** Every price row of the account, past and future ones included (domain/prices.ts picks). */
  listForAccount(accountId: string): Promise<readonly PriceRow[]>;
}

export function createPriceReads(prisma: PrismaClient): PriceReads {
  const cached = cachedReads<readonly PriceRow[]>({
    kind: 'prices',
    ttlMs: PRICES_TTL_MS,
    load: (accountId) =>
      prisma.price.findMany({
        where: { accountId },
        select: { provider: true, country: true, prefix: true, currency: true, pricePerSegmentMicros: true, effectiveFrom: true },
      }),
  });
  return { listForAccount: (accountId) => cached.get(accountId) };
}

/**
 * Inserts an import's rows, one statement for all of them (arrays through unnest): createMany
 * took 2.5 s per 5 000 rows here, unnest under 1 s for 21 000, and on the embedded database a
 * transaction holds up every other request for as long as it runs. A row whose key exists fails the statement (unique index).
 */
export async function insertPrices(db: Db, accountId: string, rows: readonly PriceRow[]): Promise<void> {
  if (rows.length === 0) return;
  const column = <T>(pick: (row: PriceRow) => T) => rows.map(pick);
  await db.$executeRaw`
    INSERT INTO "Price" (id, "accountId", provider, country, prefix, currency, "pricePerSegmentMicros", "effectiveFrom", "createdAt")
    SELECT u.id, ${accountId}::uuid, u.provider, u.country, u.prefix, u.currency, u.micros, u."effectiveFrom", ${new Date()}
    FROM unnest(${rows.map(() => uuidv7())}::uuid[], ${column((r) => r.provider)}::text[], ${column((r) => r.country)}::text[],
                ${column((r) => r.prefix)}::text[], ${column((r) => r.currency)}::text[],
                ${column((r) => r.pricePerSegmentMicros.toString())}::bigint[], ${column((r) => r.effectiveFrom.toISOString())}::timestamptz[])
      AS u(id, provider, country, prefix, currency, micros, "effectiveFrom")`;
}

/** Deletes the account's rows of these ids (the rows an import replaces), in one statement. */
export async function deletePrices(db: Db, accountId: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.$executeRaw`DELETE FROM "Price" WHERE "accountId" = ${accountId}::uuid AND id = ANY(${ids}::uuid[])`;
}

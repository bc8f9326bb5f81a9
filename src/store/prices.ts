// An account's price list as cost estimates read it (previewMessage now; the dispatcher's cost
// of each message later): every row, kept in memory until a change is announced
// (services/prices.ts announces each write), so a lookup is a scan of memory, not a query.
import type { PrismaClient } from '../db/database.js';
import type { PriceRow } from '../domain/prices.js';
import { cachedReads } from './cached-reads.js';

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

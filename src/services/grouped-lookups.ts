// Lookups that every send makes (its API key, its account's sender identities, whether the
// recipient opted out) and every recorded submission makes (whether a report waits for it),
// grouped across the requests in flight at the same moment: one query per
// group instead of one per request (DataLoader's batching; its cache is off, so every request
// still reads the database: a revoked key or a new opt-out counts at once).
import DataLoader from 'dataloader';
import type { PrismaClient } from '../db/database.js';
import type { ApiKey } from '../generated/prisma/client.js';

type KeyRow = ApiKey;

interface Loaders {
  apiKeys: DataLoader<string, KeyRow | undefined>;
  identities: DataLoader<string, { value: string; isDefault: boolean }[]>;
  optedOut: DataLoader<string, boolean>;
  pendingReports: DataLoader<string, boolean>;
}

/**
 * DataLoader options for every grouped statement: no cache (each call reads or writes), and a
 * group closes at the next macrotask rather than DataLoader's default of the end of the current
 * microtask queue. Requests arrive on their own sockets, each in its own I/O callback, so with
 * the default every request made its own group of one (the end-to-end bench logged one key
 * lookup per send); with setImmediate, what arrived in one poll of the event loop is one group.
 */
export const GROUP_PER_MOMENT = { cache: false, batchScheduleFn: (run: () => void) => setImmediate(run) } as const;

const all = new WeakMap<PrismaClient, Loaders>();
const SEP = '\u0000';

function loadersFor(prisma: PrismaClient): Loaders {
  let loaders = all.get(prisma);
  if (loaders) return loaders;
  loaders = {
    apiKeys: new DataLoader(
      async (prefixes) => {
        const rows = await prisma.apiKey.findMany({ where: { prefix: { in: [...prefixes] } } });
        const byPrefix = new Map(rows.map((r) => [r.prefix, r]));
        return prefixes.map((p) => byPrefix.get(p));
      },
      GROUP_PER_MOMENT,
    ),
    identities: new DataLoader(
      async (accountIds) => {
        const rows = await prisma.senderIdentity.findMany({ where: { accountId: { in: [...accountIds] } }, select: { accountId: true, value: true, isDefault: true } });
        return accountIds.map((id) => rows.filter((r) => r.accountId === id));
      },
      GROUP_PER_MOMENT,
    ),
    optedOut: new DataLoader(
      async (keys) => {
        const pairs = keys.map((k) => k.split(SEP) as [string, string]);
        const rows = await prisma.$queryRaw<{ accountId: string; phone: string }[]>`
          SELECT o."accountId"::text AS "accountId", o.phone FROM "OptOut" o
          JOIN unnest(${pairs.map((p) => p[0])}::uuid[], ${pairs.map((p) => p[1])}::text[]) AS k(account, phone)
            ON o."accountId" = k.account AND o.phone = k.phone`;
        const found = new Set(rows.map((r) => `${r.accountId}${SEP}${r.phone}`));
        return keys.map((k) => found.has(k));
      },
      { ...GROUP_PER_MOMENT, maxBatchSize: 1000 },
    ),
    pendingReports: new DataLoader(
      async (keys) => {
        const pairs = keys.map((k) => k.split(SEP) as [string, string]);
        const rows = await prisma.$queryRaw<{ provider: string; providerMessageId: string }[]>`
          SELECT DISTINCT p.provider, p."providerMessageId" FROM "PendingStatusReport" p
          JOIN unnest(${pairs.map((k) => k[0])}::text[], ${pairs.map((k) => k[1])}::text[]) AS k(provider, id)
            ON p.provider = k.provider AND p."providerMessageId" = k.id`;
        const found = new Set(rows.map((r) => `${r.provider}${SEP}${r.providerMessageId}`));
        return keys.map((k) => found.has(k));
      },
      { ...GROUP_PER_MOMENT, maxBatchSize: 1000 },
    ),
  };
  all.set(prisma, loaders);
  return loaders;
}

export function loadApiKey(prisma: PrismaClient, prefix: string): Promise<KeyRow | undefined> {
  return loadersFor(prisma).apiKeys.load(prefix);
}

export function loadSenderIdentities(prisma: PrismaClient, accountId: string): Promise<{ value: string; isDefault: boolean }[]> {
  return loadersFor(prisma).identities.load(accountId);
}

export function isOptedOut(prisma: PrismaClient, accountId: string, phone: string): Promise<boolean> {
  return loadersFor(prisma).optedOut.load(`${accountId}${SEP}${phone}`);
}

/**
 * Whether any delivery report waits for this provider id (it overtook the dispatcher): asked
 * once per submission recorded, so the submissions recorded in the same moment share one query.
 */
export function hasPendingReports(prisma: PrismaClient, provider: string, providerMessageId: string): Promise<boolean> {
  return loadersFor(prisma).pendingReports.load(`${provider}${SEP}${providerMessageId}`);
}

// Lookups that every recorded submission makes (whether a report waits for it), grouped across
// the submissions in flight at the same moment: one query per group instead of one per
// submission (DataLoader's batching; its cache is off, so every call still reads the database).
// The send lookups that were here (API keys, sender identities, opt-outs) are in src/store/.
import DataLoader from 'dataloader';
import type { PrismaClient } from '../db/database.js';

interface Loaders {
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

/**
 * Whether any delivery report waits for this provider id (it overtook the dispatcher): asked
 * once per submission recorded, so the submissions recorded in the same moment share one query.
 */
export function hasPendingReports(prisma: PrismaClient, provider: string, providerMessageId: string): Promise<boolean> {
  return loadersFor(prisma).pendingReports.load(`${provider}${SEP}${providerMessageId}`);
}

// The store: every SQL statement Herald runs and every Prisma query of the hot paths (send,
// claim, status change, reports, inbound, stats, outbox), as named functions grouped by what
// they hold. It is created once at start-up from the open database and handed to services and
// the dispatcher; nothing below keeps module-level state, so two Heralds in one process (tests
// do this) never share a cache or a group.
import type { Database, PrismaClient } from '../db/database.js';

export interface Store {
  /** The client request handlers use. */
  readonly prisma: PrismaClient;
  /**
   * The client background work uses (dispatcher, reconciler, simulator, outbox): on PostgreSQL a
   * small pool of its own, so a flood of requests cannot starve delivery (see db/database.ts).
   */
  readonly background: PrismaClient;
  /** Whether the database answers (GET /readyz). */
  ping(): Promise<boolean>;
}

export function createStore(database: Pick<Database, 'prisma' | 'background'>): Store {
  return {
    prisma: database.prisma,
    background: database.background,
    ping: () =>
      database.prisma.$queryRaw`SELECT 1`.then(
        () => true,
        () => false,
      ),
  };
}

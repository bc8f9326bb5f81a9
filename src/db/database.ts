import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaClient } from '../generated/prisma/client.js';
import { lockDataDir } from './data-dir-lock.js';
import pg from 'pg';
import { applyMigrations, MigrationError } from './migrate.js';
import { createPGliteAdapterFactory } from './pglite-adapter.js';
import { openPGlite } from './pglite-template.js';

export type { PrismaClient };

export interface Database {
  prisma: PrismaClient;
  /**
   * The client background work uses (the dispatcher, the simulator's store, the reconciler). On
   * PostgreSQL it has a small pool of its own, so that a flood of API requests queued for the
   * main pool cannot starve delivery (under sustained intake, deliveries had fallen to a tenth
   * of the accept rate, every dispatcher query waiting behind dozens of request queries). On
   * PGlite (one connection) it is `prisma`.
   */
  background: PrismaClient;
  kind: 'pglite' | 'postgres';
  /** Connections in `prisma`'s pool (1 on PGlite: one connection serves everything). */
  poolSize: number;
  /** PGlite instance when embedded (for in-process notifications and tests). */
  pglite: PGlite | undefined;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  /** Who holds the embedded database, for the "in use by …" message. */
  holder: string;
  /** PGlite data directory override; `memory://` for tests. */
  pgliteDataDir?: string;
  /** Called with each SQL statement Prisma runs (tests count queries with it). */
  onQuery?: (sql: string) => void;
  poolSize?: number;
}

let early: { options: DatabaseOptions; database: Promise<Database> } | undefined;

/**
 * Starts opening the database now; the next `openDatabase` with the same options (same URL, data
 * directory and pool size, no query hook) gets it instead of opening another. `npm start`
 * (src/main.ts) calls it before importing the rest of the server, so that copying a new embedded
 * database from its template and compiling PGlite's WASM, on other threads, overlap the ~0.2 s
 * the main thread spends loading those modules. A failure surfaces from that `openDatabase`.
 */
export function openDatabaseEarly(options: DatabaseOptions): void {
  const database = openDatabaseNow(options);
  database.catch(() => {});
  early = { options, database };
}

const sameTarget = (a: DatabaseOptions, b: DatabaseOptions) =>
  a.databaseUrl === b.databaseUrl && a.dataDir === b.dataDir && a.pgliteDataDir === b.pgliteDataDir && a.poolSize === b.poolSize && !a.onQuery && !b.onQuery;

/**
 * Opens PostgreSQL when a URL is given, else the embedded PGlite in DATA_DIR, and applies
 * pending migrations before anything else touches the database.
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (early && sameTarget(early.options, options)) {
    const { database } = early;
    early = undefined;
    return database;
  }
  return openDatabaseNow(options);
}

async function openDatabaseNow(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    await migratePostgres(options.databaseUrl);
    const poolSize = options.poolSize ?? 10;
    const prisma = createClient(postgresAdapter(options.databaseUrl, poolSize), options.onQuery);
    const background = createClient(postgresAdapter(options.databaseUrl, BACKGROUND_POOL_SIZE), options.onQuery);
    return {
      prisma,
      background,
      kind: 'postgres',
      poolSize,
      pglite: undefined,
      close: async () => {
        await Promise.all([prisma.$disconnect(), background.$disconnect()]);
      },
    };
  }

  const inMemory = options.pgliteDataDir?.startsWith('memory://');
  const unlock = inMemory ? async () => {} : lockDataDir(options.dataDir, options.holder);
  let pglite: PGlite | undefined;
  try {
    pglite = await openPGlite(options.pgliteDataDir ?? path.join(options.dataDir, 'pgdata'));
    const factory = createPGliteAdapterFactory(pglite);
    await applyMigrations(pglite, { advisoryLock: false });
    const prisma = createClient(factory, options.onQuery);
    const db = pglite;
    return {
      prisma,
      background: prisma,
      kind: 'pglite',
      poolSize: 1,
      pglite: db,
      close: async () => {
        await prisma.$disconnect();
        // $disconnect does not close PGlite; without this the process never exits.
        await db.close();
        await unlock();
      },
    };
  } catch (error) {
    await pglite?.close().catch(() => {});
    await unlock();
    throw error;
  }
}

const BACKGROUND_POOL_SIZE = 4;

function postgresAdapter(databaseUrl: string, max: number): PrismaPg {
  const pool = new pg.Pool({ connectionString: databaseUrl, max });
  // pg emits 'error' on a client whose connection dies while no query runs on it, and an
  // 'error' event nobody listens to is thrown: the process dies. The pool and Prisma's adapter
  // listen only at some moments of a client's life (idle in the pool, inside a transaction);
  // a PostgreSQL restart under load hit one in between and killed Herald (chaos suite,
  // database-restart). A listener for the client's whole life makes it what it should be: the
  // pool drops the dead client, the query on it fails with a clean error, the next opens anew.
  pool.on('connect', (client) => client.on('error', () => {}));
  return new PrismaPg(pool, { disposeExternalPool: true });
}

function createClient(adapter: SqlMigrationAwareDriverAdapterFactory, onQuery?: (sql: string) => void): PrismaClient {
  if (!onQuery) return new PrismaClient({ adapter });
  const prisma = new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] });
  prisma.$on('query', (e) => onQuery(e.query));
  return prisma;
}

async function migratePostgres(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
  } catch (error) {
    throw new MigrationError(`cannot connect to PostgreSQL to apply migrations: ${(error as Error).message}`);
  }
  try {
    await applyMigrations({ exec: (sql) => client.query(sql), query: async (sql, params) => ({ rows: (await client.query(sql, params)).rows }) }, { advisoryLock: true });
  } finally {
    await client.end();
  }
}

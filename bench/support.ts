// Shared by the benchmarks: a fresh database of the asked kind, and an account whose
// frequency limits are lifted (benchmarks send thousands of messages to few numbers).
import pg from 'pg';
import { openDatabase, type Database } from '../src/db/database.js';

export const DEFAULT_POSTGRES_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchDatabase {
  database: Database;
  databaseUrl: string | undefined;
  /** Closes the database and drops it (PostgreSQL). */
  dispose(): Promise<void>;
  /** Drops it (PostgreSQL) without closing `database`: for a caller that closed it already. */
  drop(): Promise<void>;
}

/** In-memory PGlite, or a new PostgreSQL database created next to `adminUrl`. */
export async function openBenchDatabase(kind: string, adminUrl = DEFAULT_POSTGRES_ADMIN_URL): Promise<BenchDatabase> {
  let databaseUrl: string | undefined;
  let drop = async () => {};
  if (kind === 'postgres') {
    const name = `herald_bench_${process.pid}_${Date.now()}`;
    const run = async (sql: string) => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    };
    await run(`CREATE DATABASE ${name}`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
    drop = () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } else if (kind !== 'pglite') {
    throw new Error(`--db must be pglite or postgres, not ${kind}`);
  }
  const database = await openDatabase({ databaseUrl, dataDir: '/nonexistent', pgliteDataDir: 'memory://', holder: 'bench' });
  return {
    database,
    databaseUrl,
    async dispose() {
      await database.close();
      await drop();
    },
    drop,
  };
}

export const NO_LIMITS = {
  recipient: { OTP: [], NOTIFICATION: [], MARKETING: [] },
  recipientTotal: [],
  requests: { max: 1_000_000, perSeconds: 1 },
  accountQuota: [],
};

// What a benchmark run cost PostgreSQL: SQL executed in the bench database, WAL written, and
// which processes on this machine are PostgreSQL's (for their CPU, through bench/lib/proc-cpu.ts).
// Everything is read from the admin connection (the `postgres` database), never from the bench
// database, so that reading does not count itself.
import pg from 'pg';
import { readCmdline, readProcStat, type Classify } from './proc-cpu.js';

export async function adminQuery<T extends pg.QueryResultRow>(adminUrl: string, sql: string, params: unknown[] = [], database?: string): Promise<T[]> {
  const url = new URL(adminUrl);
  if (database) url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** The database a postgres:// URL names. */
export const databaseName = (databaseUrl: string) => decodeURIComponent(new URL(databaseUrl).pathname.slice(1));

export interface SqlCounts {
  /**
   * Commits + rollbacks (pg_stat_database): one per autocommit statement, one per BEGIN…COMMIT
   * block whatever it holds, and one each time a LISTENing session reads the notifications that
   * arrived for it (PostgreSQL reads its queue in a transaction of its own), one per session start.
   */
  transactions: number;
  /** Top-level statements, BEGIN and COMMIT included (pg_stat_statements); null when the server does not load it. */
  statements: number | null;
}

export interface SqlCounter {
  /** 'statements' when pg_stat_statements is loaded, else 'transactions'. */
  unit: 'statements' | 'transactions';
  /** What is counted, in words, for the notes. */
  describe: string;
  read(): Promise<SqlCounts>;
}

/**
 * Counts the SQL of one database: commits + rollbacks from pg_stat_database, and statements from
 * pg_stat_statements (`sum(calls)`) when shared_preload_libraries has it (loading it needs a
 * server restart, which a benchmark must not do to a shared server). pg_stat_database is fed by
 * each backend when it goes idle, at most once a second and up to 10 s late for an idle one
 * (PostgreSQL 15), but in full when it exits: read it when no session is connected to the
 * database (see waitForNoSessions). pg_stat_statements is up to date at each statement's end.
 */
export async function openSqlCounter(adminUrl: string, database: string): Promise<SqlCounter> {
  const [preload] = await adminQuery<{ libs: string }>(adminUrl, 'SELECT current_setting($1) AS libs', ['shared_preload_libraries']);
  // The view exists only where the extension is created: in the bench database, dropped with it
  // (creating it takes a superuser, as the bench's admin URL normally is).
  const statements =
    /\bpg_stat_statements\b/.test(preload?.libs ?? '') &&
    (await adminQuery(adminUrl, 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements', [], database).then(
      () => true,
      () => false,
    ));
  const transactions =
    'commits + rollbacks (pg_stat_database): an autocommit statement counts one, a BEGIN…COMMIT block one whatever it holds, and so does each read of the notifications a LISTENing session receives, and each session start';
  return {
    unit: statements ? 'statements' : 'transactions',
    describe: statements
      ? `statements = pg_stat_statements sum(calls) in the bench database (top-level statements, BEGIN and COMMIT included); transactions = ${transactions}`
      : `transactions = ${transactions}; statements are not counted: pg_stat_statements is not in shared_preload_libraries, which only a server restart changes`,
    read: async () => {
      let counted: number | null = null;
      if (statements) {
        // From the bench database, where the view is; its own statements are left out by their
        // text, its transaction by reading pg_stat_database once its session has ended.
        const [row] = await adminQuery<{ calls: string | null }>(
          adminUrl,
          `SELECT sum(calls) AS calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
           WHERE d.datname = $1 AND s.query NOT LIKE '%pg_stat_statements%' AND s.query NOT ILIKE 'CREATE EXTENSION%'`,
          [database],
          database,
        );
        counted = Number(row?.calls ?? 0);
        await waitForNoSessions(adminUrl, database);
      }
      const [row] = await adminQuery<{ n: string }>(adminUrl, 'SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1', [database]);
      return { transactions: Number(row?.n ?? 0), statements: counted };
    },
  };
}

/** Resolves true once no session is connected to `database` (their statistics are then all in), false after `timeoutMs`. */
export async function waitForNoSessions(adminUrl: string, database: string, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await adminQuery<{ n: number }>(adminUrl, 'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [database]);
    if (row?.n === 0) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The server's current WAL position (all databases write to the same WAL). */
export async function walPosition(adminUrl: string): Promise<string> {
  const [row] = await adminQuery<{ lsn: string }>(adminUrl, 'SELECT pg_current_wal_lsn()::text AS lsn');
  return row!.lsn;
}

/** WAL bytes written by the whole server since `from` (a walPosition). */
export async function walBytesSince(adminUrl: string, from: string): Promise<number> {
  const [row] = await adminQuery<{ bytes: string }>(adminUrl, 'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn) AS bytes', [from]);
  return Number(row!.bytes);
}

/**
 * The postmaster's pid when PostgreSQL runs on this machine (in this pid namespace), from the
 * parent of the admin connection's backend; null when it does not (a remote server).
 */
export async function localPostmaster(adminUrl: string): Promise<number | null> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    // Read while the session is open: its backend exits with it.
    const backend = rows[0] ? readProcStat(rows[0].pid) : null;
    return backend && readCmdline(backend.pid).startsWith('postgres') ? backend.ppid : null;
  } finally {
    await client.end();
  }
}

/**
 * Sorts PostgreSQL's processes for a CPU meter: 'backends' of `database` (sessions, autovacuum
 * and parallel workers for them), 'server' (checkpointer, WAL writer, background writer,
 * launchers: shared by every database), 'other databases' (other sessions, not counted in
 * Herald's figures but a sign of load the run shared the machine with).
 */
export function classifyPostgres(postmaster: number, database: string): Classify {
  const ofDatabase = (cmdline: string) => cmdline.split(' ').includes(database);
  return (process) => {
    if (process.ppid !== postmaster) return undefined;
    const cmdline = readCmdline(process.pid);
    if (!cmdline.startsWith('postgres:')) return null; // forked, title not set yet
    if (ofDatabase(cmdline)) return 'backends';
    const leader = /parallel worker for PID (\d+)/.exec(cmdline)?.[1];
    if (leader) return ofDatabase(readCmdline(Number(leader))) ? 'backends' : 'other databases';
    if (cmdline.includes('autovacuum worker')) return 'other databases';
    // A session's title is "postgres: <cluster>: <user> <database> <client> <state>".
    if (/\d+\.\d+\.\d+\.\d+\(\d+\)|\[local\]|\(\d+\)/.test(cmdline)) return 'other databases';
    return 'server';
  };
}

// What the abuse scenarios share: a Herald process in production mode on a fresh PostgreSQL
// database (prepared from this process, which keeps a Prisma client on it to count rows), and a
// plain HTTP GraphQL caller that returns the status and raw body (bodies are checked for leaks).
import { startHeraldProcess, type ServerProcess } from '../../bench/lib/processes.js';
import { prepareDatabase, type PreparedDatabase } from '../../bench/lib/accounts.js';
import type { ChaosOptions } from '../harness.js';

export interface AbuseHerald {
  url: string;
  db: PreparedDatabase;
  server: ServerProcess;
  /** False once the process has exited (crashed). */
  alive(): boolean;
  stop(): Promise<void>;
}

/**
 * Prepares the database (account `accountName` with a SENDER key), lets `beforeStart` add rows
 * or settings the process must see at start, then starts Herald on it with NODE_ENV=production.
 */
export async function startAbuseHerald(
  options: ChaosOptions,
  env: Record<string, string> = {},
  beforeStart: (db: PreparedDatabase) => Promise<void> = async () => {},
  accountName = 'chaos-a',
): Promise<AbuseHerald> {
  const db = await prepareDatabase('postgres', options.postgresAdminUrl, accountName);
  let server: ServerProcess;
  try {
    await beforeStart(db);
    server = await startHeraldProcess({ DATABASE_URL: db.databaseUrl!, NODE_ENV: 'production', LOG_LEVEL: 'error', ...env });
  } catch (error) {
    await db.dispose();
    throw error;
  }
  let exited = false;
  return {
    url: server.url,
    db,
    server,
    alive() {
      if (exited) return false;
      try {
        process.kill(server.pid, 0);
        return true;
      } catch {
        exited = true;
        return false;
      }
    },
    async stop() {
      await server.stop().catch(() => {});
      await db.dispose().catch(() => {});
    },
  };
}

export interface HttpAnswer {
  status: number;
  body: string;
  ms: number;
}

export interface GraphqlAnswer extends HttpAnswer {
  json: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] } | undefined;
}

/** POSTs a GraphQL operation with `key`; never throws for an HTTP status (network errors: status 0). */
export async function graphql(url: string, key: string, query: string, variables?: Record<string, unknown>): Promise<GraphqlAnswer> {
  const answer = await post(`${url}/graphql`, JSON.stringify({ query, variables }), { 'content-type': 'application/json', authorization: `Bearer ${key}` });
  let json: GraphqlAnswer['json'];
  try {
    json = JSON.parse(answer.body) as GraphqlAnswer['json'];
  } catch {
    json = undefined;
  }
  return { ...answer, json };
}

export async function post(url: string, body: string | Buffer, headers: Record<string, string>, timeoutMs = 15_000): Promise<HttpAnswer> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers, signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: await res.text(), ms: performance.now() - t0 };
  } catch (error) {
    return { status: 0, body: String((error as Error).cause ?? error), ms: performance.now() - t0 };
  }
}

/** Whether GET /readyz answers 200 within `timeoutMs`. */
export async function isReady(url: string, timeoutMs = 5_000): Promise<boolean> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Runs `task` over `items` with at most `concurrency` in flight. */
export async function forEachConcurrent<T>(items: readonly T[], concurrency: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await task(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

export const pct = (part: number, whole: number): string => (whole === 0 ? '—' : `${((100 * part) / whole).toFixed(part === whole ? 0 : 1)} %`);

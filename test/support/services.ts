// The machine's real PostgreSQL and Redis for end-to-end tests: a fresh database per test
// file, dropped afterwards; a clear failure (never a silent pass) when a service is down.
import pg from 'pg';
import { Redis } from 'ioredis';

const ADMIN_URL = process.env.HERALD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.HERALD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export async function createFreshDatabase(label: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `herald_${label}_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(`PostgreSQL is not reachable at ${ADMIN_URL} (${(error as Error).message}); this test needs it`);
  }
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export async function requireRedis(): Promise<void> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new Error(`Redis is not reachable at ${REDIS_URL} (${(error as Error).message}); this test needs it`);
  } finally {
    client.disconnect();
  }
}

/** Waits until `check` returns a truthy value, polling; fails with `describe()` after the timeout. */
export async function waitUntil<T>(check: () => Promise<T>, options: { timeoutMs: number; intervalMs?: number; describe?: () => Promise<string> | string }): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${options.timeoutMs} ms: ${options.describe ? await options.describe() : 'condition not met'}`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
}

// The machine's shared services as the chaos scenarios break them: PostgreSQL restarted, Redis
// shut down and started again (with the commands of the project's common facts), and small
// helpers to read the truth from the database.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import pg from 'pg';
import { Redis } from 'ioredis';

const run = promisify(execFile);

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it is truthy; throws with `describe()` after the timeout. */
export async function waitUntil<T>(check: () => Promise<T> | T, timeoutMs: number, describe: () => Promise<string> | string = () => 'condition not met', intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${await describe()}`);
    await sleep(intervalMs);
  }
}

/** `pg_ctlcluster … main restart`: every connection to the shared PostgreSQL is dropped. */
export async function restartPostgres(): Promise<void> {
  const version = readdirSync('/etc/postgresql')[0];
  if (!version) throw new Error('no PostgreSQL cluster under /etc/postgresql');
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'restart']);
}

const REDIS_START = ['--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', '6379', '--save', '', '--appendonly', 'no', '--dir', '/var/lib/redis', '--logfile', '/var/log/redis/ci.log'];

export async function redisUp(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export async function stopRedis(): Promise<void> {
  await run('redis-cli', ['shutdown', 'nosave']).catch(() => {}); // answers with a closed connection
}

/** Starts the machine's Redis (the common facts' command) unless it answers already. */
export async function startRedis(url: string): Promise<void> {
  if (await redisUp(url)) return;
  await run('redis-server', REDIS_START);
  await waitUntil(() => redisUp(url), 10_000, () => `Redis did not come back at ${url}`);
}

/** A direct connection to a scenario's database, reconnecting after a PostgreSQL restart. */
export class Truth {
  private client: pg.Client | undefined;
  constructor(private readonly url: string) {}

  async query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
    if (!this.client) {
      const client = new pg.Client({ connectionString: this.url });
      client.on('error', () => (this.client = undefined));
      await client.connect();
      this.client = client;
    }
    try {
      return (await this.client.query<T>(sql, params)).rows;
    } catch (error) {
      this.client?.end().catch(() => {});
      this.client = undefined;
      throw error;
    }
  }

  async count(sql: string, params: unknown[] = []): Promise<number> {
    return Number((await this.query<{ n: number }>(sql, params))[0]?.n ?? 0);
  }

  async close(): Promise<void> {
    await this.client?.end().catch(() => {});
    this.client = undefined;
  }
}

export const FINAL_STATUSES = ['DELIVERED', 'UNDELIVERED', 'EXPIRED', 'REJECTED', 'FAILED', 'CANCELED'];

// Two Herald processes on one PostgreSQL and one Redis: a subscriber on one sees what is sent
// through the other, and no message is submitted twice. Then a dispatcher killed with SIGKILL
// mid-batch: every message still reaches a final status.
import pg from 'pg';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoErrors, graphqlCaller, NO_LIMITS } from '../support/herald.js';
import { runCli, spawnHerald, type HeraldProcess } from '../support/process.js';
import { createFreshDatabase, REDIS_URL, requireRedis, waitUntil } from '../support/services.js';

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { ... on SendMessageSuccess { data { id } } ... on Error { code message } } }`;

const processes: HeraldProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function startServer(env: Record<string, string>): Promise<{ url: string; proc: HeraldProcess }> {
  const proc = spawnHerald(['server'], { PORT: '0', BOOTSTRAP_ADMIN_KEY: 'false', ...env });
  processes.push(proc);
  const [, url] = await proc.waitFor(/listening on (http:\/\/\S+\/graphql)/);
  return { url, proc };
}

async function createKey(env: Record<string, string>): Promise<string> {
  const created = await runCli(['keys', 'create', '--name', 'e2e', '--account', 'e2e', '--role', 'ADMIN'], env);
  if (created.code !== 0) throw new Error(created.output);
  return created.stdout.trim().split('\n').at(-1)!;
}

/** Hundreds of messages to one number: lift the account's frequency limits. */
async function liftLimits(url: string, key: string): Promise<void> {
  const result = await graphqlCaller(url, key)(`mutation($limits: JSON!) { updateAccountSettings(input: { limits: $limits }) { __typename } }`, { limits: NO_LIMITS });
  expect(expectNoErrors(result).updateAccountSettings.__typename).toBe('UpdateAccountSettingsSuccess');
}

async function sendMany(url: string, key: string, count: number, concurrency: number): Promise<string[]> {
  const api = graphqlCaller(url, key);
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const data = expectNoErrors(await api(SEND, { input: { to: '+14155550100', body: `scale-out ${i}` } }));
        if (!data.sendMessage.data) throw new Error(JSON.stringify(data.sendMessage));
        ids.push(data.sendMessage.data.id);
      }
    }),
  );
  return ids;
}

function subscribe(client: Client, query: string, variables: Record<string, unknown>, onNext: (data: any) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    client.subscribe({ query, variables }, { next: (r) => onNext(r.data), error: reject, complete: resolve });
  });
}

// Real processes on a 2-core machine: generous limits, measured figures are printed.
describe('scale-out on PostgreSQL + Redis', { timeout: 300_000 }, () => {
  let db: pg.Client;
  let env: Record<string, string>;

  beforeAll(async () => {
    await requireRedis();
    const database = await createFreshDatabase('scaleout');
    cleanups.push(() => database.drop());
    env = { DATABASE_URL: database.url, REDIS_URL, DISPATCH_POLL_MS: '200', LOG_LEVEL: 'warn' };
    db = new pg.Client({ connectionString: database.url });
    await createKey(env); // also applies the migrations
    await db.connect();
    cleanups.push(() => db.end());
  });

  it('a subscriber on one instance sees messages sent through the other, and none is submitted twice', async () => {
    const key = await createKey(env);
    const [a, b] = await Promise.all([startServer(env), startServer(env)]);
    await liftLimits(a.url, key);
    const ws = createClient({ url: a.url.replace('http', 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${key}` } });
    cleanups.push(() => ws.dispose() as Promise<void>);

    const delivered = new Set<string>();
    subscribe(ws, `subscription { messageEvents(filter: { status: [DELIVERED] }) { id status } }`, {}, (d) => delivered.add(d.messageEvents.id)).catch(() => {});
    // Let the subscription reach Redis before sending.
    await new Promise((r) => setTimeout(r, 500));

    const [first] = await sendMany(b.url, key, 1, 1);
    const seen: string[] = [];
    await subscribe(ws, `subscription($id: ID!) { messageStatusChanged(id: $id) { status } }`, { id: first }, (d) => seen.push(d.messageStatusChanged.status));
    expect(seen.at(-1)).toBe('DELIVERED');
    expect(seen).toEqual([...new Set(seen)]); // in order, no repeats

    const started = Date.now();
    const ids = [first, ...(await sendMany(b.url, key, 199, 20))];
    await waitUntil(async () => ids.every((id) => delivered.has(id)), {
      timeoutMs: 120_000,
      describe: () => `${delivered.size} of ${ids.length} DELIVERED seen on instance A`,
    });
    console.log(`scale-out: ${ids.length} messages sent via B, all seen DELIVERED on A in ${Date.now() - started} ms`);

    const { rows } = await db.query<{ submissions: number; messages: number; multi: number }>(`
      SELECT (SELECT count(*)::int FROM "SimulatorSubmission") AS submissions,
             (SELECT count(*)::int FROM "Message" WHERE status = 'DELIVERED') AS messages,
             (SELECT count(*)::int FROM "Message" WHERE attempts <> 1) AS multi`);
    expect(rows[0]).toEqual({ submissions: 200, messages: 200, multi: 0 });
    // No message recorded as taken by a provider twice (a report that overtakes the dispatcher's
    // own record leaves no SENT event of the dispatcher, so this counts repeats, not a total).
    const sentTwice = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT "messageId" FROM "MessageEvent" WHERE status = 'SENT' AND source = 'DISPATCHER' GROUP BY "messageId" HAVING count(*) > 1) d`,
    );
    expect(sentTwice.rows[0].n).toBe(0);

    await ws.dispose();
    a.proc.child.kill('SIGTERM');
    b.proc.child.kill('SIGTERM');
    expect(await a.proc.exited).toBe(0);
    expect(await b.proc.exited).toBe(0);
  });

  it('a dispatcher killed with SIGKILL mid-batch loses nothing: every message reaches a final status', async () => {
    const key = await createKey(env);
    const server = await startServer({ ...env, DISPATCH: 'off' });
    await liftLimits(server.url, key);
    const publicUrl = server.url.replace(/\/graphql$/, '');
    await db.query(`DELETE FROM "Message"`);
    const ids = await sendMany(server.url, key, 400, 25);

    const workerEnv = { ...env, PUBLIC_URL: publicUrl, DISPATCH_BATCH_SIZE: '50', DISPATCH_LEASE_MS: '2000', SIMULATOR_DELAY_MS: '500' };
    const first = spawnHerald(['worker'], workerEnv);
    processes.push(first);
    await first.waitFor(/worker dispatching/);
    const count = async (statuses: string) =>
      (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "Message" WHERE status::text = ANY($1)`, [statuses.split(',')])).rows[0].n;
    await waitUntil(async () => (await count('SENDING,SENT,DELIVERED')) >= 100, { timeoutMs: 60_000 });
    first.child.kill('SIGKILL');
    await first.exited;
    const inFlightAtKill = await count('SENDING,SENT');

    const second = spawnHerald(['worker'], workerEnv);
    processes.push(second);
    // Its SIGTERM handler exists from this line on (a signal before it would kill it outright).
    await second.waitFor(/worker dispatching/);
    const started = Date.now();
    await waitUntil(async () => (await count('DELIVERED,UNDELIVERED,EXPIRED,REJECTED,FAILED,CANCELED')) === ids.length, {
      timeoutMs: 150_000,
      describe: async () => `final: ${await count('DELIVERED,UNDELIVERED,EXPIRED,REJECTED,FAILED,CANCELED')} of ${ids.length}`,
    });
    const duplicates = (
      await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM (SELECT "messageId" FROM "MessageEvent" WHERE status = 'SENT' AND source = 'DISPATCHER' GROUP BY "messageId" HAVING count(*) > 1) d`)
    ).rows[0].n;
    const lost = ids.length - (await count('DELIVERED'));
    console.log(`SIGKILL: ${inFlightAtKill} in flight at the kill; all ${ids.length} final ${Date.now() - started} ms after restart; lost ${lost}; duplicate submissions ${duplicates}`);
    expect(lost).toBe(0);
    expect(duplicates).toBe(0);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    server.proc.child.kill('SIGTERM');
    await server.proc.exited;
  });
});

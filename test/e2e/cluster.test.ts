// `npm start` on PostgreSQL without Redis runs several processes (src/app/cluster.ts): a primary
// that coordinates, HTTP workers sharing the port and one that dispatches. What one process gave for free must hold
// across them: a subscriber sees changes made in any process, send limits count every worker's
// sends together, revoking a key closes its sockets wherever they are, a dead worker is replaced,
// and a stop ends every process.
import http from 'node:http';
import { readFileSync, readdirSync } from 'node:fs';
import pg from 'pg';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { expectNoErrors, graphqlCaller, NO_LIMITS } from '../support/herald.js';
import { runCli, spawnHerald, type HeraldProcess } from '../support/process.js';
import { createFreshDatabase, waitUntil } from '../support/services.js';
import { openSubscribedSocket } from '../support/ws.js';

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { __typename ... on SendMessageSuccess { data { id } } ... on Error { code } } }`;

/** A POST on a connection of its own: the primary hands each new connection to the next worker. */
function postOnNewConnection(url: string, key: string, query: string, variables: Record<string, unknown>): Promise<any> {
  const body = JSON.stringify({ query, variables });
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${key}` } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          try {
            resolve(JSON.parse(text));
          } catch {
            reject(new Error(`HTTP ${response.statusCode}: ${text.slice(0, 300)}`));
          }
        });
      },
    );
    request.setTimeout(15_000, () => request.destroy(new Error('no answer within 15 s')));
    request.on('error', reject);
    request.end(body);
  });
}

/** Pids of the live children of `pid`, from /proc. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(fields[1]) === pid && fields[0] !== 'Z';
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('several processes on PostgreSQL without Redis (HTTP_WORKERS)', { timeout: 180_000 }, () => {
  let herald: HeraldProcess;
  let url: string;
  let adminKey: string;
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    const database = await createFreshDatabase('cluster');
    cleanups.push(() => database.drop());
    const env = { DATABASE_URL: database.url, LOG_LEVEL: 'warn', SIMULATOR_DELAY_MS: '10' };
    const created = await runCli(['keys', 'create', '--name', 'e2e', '--account', 'cluster', '--role', 'ADMIN'], env);
    expect(created.code, created.output).toBe(0);
    adminKey = created.stdout.trim().split('\n').at(-1)!;
    herald = spawnHerald(['server'], { PORT: '0', BOOTSTRAP_ADMIN_KEY: 'false', HTTP_WORKERS: '2', ...env });
    [, url] = await herald.waitFor(/listening on (http:\/\/\S+\/graphql)/, 60_000);
    await herald.waitFor(/2 HTTP worker processes/);
  });

  afterAll(async () => {
    if (herald?.child.exitCode === null) herald.child.kill('SIGKILL');
    await herald?.exited;
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  beforeEach(() => {
    onTestFailed(() => console.error(`--- herald output ---\n${herald.output().slice(-4000)}`));
  });

  it('runs the primary, two HTTP workers and a dispatcher', () => {
    expect(childrenOf(herald.child.pid!)).toHaveLength(3);
  });

  it('a subscriber on one worker sees every message sent through either reach DELIVERED', async () => {
    expect(expectNoErrors(await graphqlCaller(url, adminKey)(`mutation($limits: JSON!) { updateAccountSettings(input: { limits: $limits }) { __typename } }`, { limits: NO_LIMITS })).updateAccountSettings.__typename).toBe(
      'UpdateAccountSettingsSuccess',
    );
    const delivered = new Set<string>();
    const client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${adminKey}` }, retryAttempts: 0 });
    let live!: () => void;
    const subscribed = new Promise<void>((resolve) => (live = resolve));
    client.subscribe<{ messageEvents: { id: string; status: string } }>(
      { query: 'subscription { messageEvents(filter: { status: [QUEUED, DELIVERED] }) { id status } }' },
      {
        next: ({ data }) => {
          live();
          if (data?.messageEvents.status === 'DELIVERED') delivered.add(data.messageEvents.id);
        },
        error: () => {},
        complete: () => {},
      },
    );
    // The subscription is live once it has seen a message of its own go by.
    await waitUntil(
      async () => {
        await postOnNewConnection(url, adminKey, SEND, { input: { to: '+14155550100', body: 'warm-up' } });
        return Promise.race([subscribed.then(() => true), new Promise<boolean>((r) => setTimeout(r, 300, false))]);
      },
      { timeoutMs: 20_000 },
    );
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const answer = await postOnNewConnection(url, adminKey, SEND, { input: { to: '+14155550100', body: `cluster ${i}` } });
      ids.push(answer.data.sendMessage.data.id);
    }
    await waitUntil(async () => ids.every((id) => delivered.has(id)), {
      timeoutMs: 30_000,
      describe: () => `${ids.filter((id) => delivered.has(id)).length}/${ids.length} seen DELIVERED`,
    });
    await client.dispose();
  });

  it("answers /metrics on any worker with every process's counts added up", async () => {
    const get = () =>
      new Promise<string>((resolve, reject) =>
        http.get(url.replace('/graphql', '/metrics'), { agent: false }, (response) => {
          let text = '';
          response.on('data', (c: Buffer) => (text += c.toString()));
          response.on('end', () => resolve(text));
        }).on('error', reject),
      );
    const value = (text: string, pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? NaN);
    // Two scrapes land on the two workers in turn; each must see the whole: the dispatcher's
    // submissions (only the primary makes them) and both workers' sendMessage operations.
    for (const text of [await get(), await get()]) {
      expect(value(text, /^herald_provider_requests_total\{[^}]*provider="simulator"[^}]*outcome="accepted"[^}]*\} (\d+)/m)).toBeGreaterThanOrEqual(41);
      const operations = [...text.matchAll(/^graphql_envelop_request\{[^}]*operationType="mutation"[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
      expect(operations).toBeGreaterThanOrEqual(41);
      expect(value(text, /^herald_messages\{status="DELIVERED",provider="simulator"\} (\d+)/m)).toBeGreaterThanOrEqual(41);
    }
  });

  it("counts every worker's sends against one recipient limit", async () => {
    const limits = { ...NO_LIMITS, recipient: { ...NO_LIMITS.recipient, NOTIFICATION: [{ max: 5, perSeconds: 3600 }] } };
    expect(expectNoErrors(await graphqlCaller(url, adminKey)(`mutation($limits: JSON!) { updateAccountSettings(input: { limits: $limits }) { __typename } }`, { limits })).updateAccountSettings.__typename).toBe(
      'UpdateAccountSettingsSuccess',
    );
    // Every worker hears of the change at once (the settings-changed channel): no wait.
    const answers: any[] = [];
    for (let i = 0; i < 12; i++) answers.push(await postOnNewConnection(url, adminKey, SEND, { input: { to: '+14155550188', body: `limit ${i}` } }));
    const kinds = answers.map((a) => a.data.sendMessage.__typename);
    // One counter per worker would let up to 10 through.
    expect(kinds.filter((k) => k === 'SendMessageSuccess')).toHaveLength(5);
    expect(kinds.filter((k) => k === 'RateLimitedError')).toHaveLength(7);
  });

  it("closes a revoked key's sockets on every worker with 4403", async () => {
    const admin = graphqlCaller(url, adminKey);
    const sender = expectNoErrors(
      await admin(`mutation { createApiKey(name: "sender", role: SENDER) { ... on CreateApiKeySuccess { data { secret apiKey { id } } } } }`),
    ).createApiKey.data;
    // Four sockets on four connections: the two workers take turns, so both hold some.
    const sockets = await Promise.all(Array.from({ length: 4 }, () => openSubscribedSocket(url, sender.secret)));
    const revoked = await postOnNewConnection(url, adminKey, `mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }`, { id: sender.apiKey.id });
    expect(revoked.data.revokeApiKey.__typename).toBe('RevokeApiKeySuccess');
    const closed = await Promise.all(sockets.map((s) => s.closed));
    expect(closed.map((c) => c.code)).toEqual([4403, 4403, 4403, 4403]);
  });

  it('replaces a worker that died (an HTTP worker, then the dispatcher), and keeps serving and delivering', async () => {
    const role = (pid: number) => (readFileSync(`/proc/${pid}/environ`, 'utf8').includes('HERALD_PROCESS_ROLE=dispatcher') ? 'dispatcher' : 'http');
    const children = childrenOf(herald.child.pid!);
    expect(children.map(role).sort()).toEqual(['dispatcher', 'http', 'http']);
    // One HTTP worker at a time: the other keeps the port open meanwhile.
    for (const victim of [children.find((pid) => role(pid) === 'http')!, children.find((pid) => role(pid) === 'dispatcher')!]) {
      process.kill(victim, 'SIGKILL');
      await waitUntil(async () => childrenOf(herald.child.pid!).length === 3 && !childrenOf(herald.child.pid!).includes(victim), { timeoutMs: 20_000 });
      for (let i = 0; i < 4; i++) {
        const answer = await postOnNewConnection(url, adminKey, '{ __typename }', {});
        expect(answer.data.__typename).toBe('Query');
      }
    }
    expect(childrenOf(herald.child.pid!).map(role).sort()).toEqual(['dispatcher', 'http', 'http']);
    expect(herald.output()).toMatch(/HTTP worker exited; starting another/);
    expect(herald.output()).toMatch(/dispatcher exited; starting another/);
    // A message sent now is delivered by the replacement dispatcher.
    const sent = await postOnNewConnection(url, adminKey, SEND, { input: { to: '+14155550100', body: 'after the kills' } });
    const id = sent.data.sendMessage.data.id;
    await waitUntil(
      async () => (await postOnNewConnection(url, adminKey, 'query($id: ID!) { message(id: $id) { status } }', { id })).data.message.status === 'DELIVERED',
      { timeoutMs: 30_000 },
    );
  });

  it('stops every process on SIGTERM', async () => {
    const workers = childrenOf(herald.child.pid!);
    herald.child.kill('SIGTERM');
    expect(await herald.exited).toBe(0);
    for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe('several processes with DISPATCH=off', { timeout: 120_000 }, () => {
  it("rolls up messageStats in the HTTP workers, since no process dispatches", async () => {
    const database = await createFreshDatabase('cluster_nodispatch');
    const herald = spawnHerald(['server'], { PORT: '0', BOOTSTRAP_ADMIN_KEY: 'false', HTTP_WORKERS: '2', DISPATCH: 'off', STATS_ROLLUP_POLL_MS: '200', DATABASE_URL: database.url });
    const client = new pg.Client({ connectionString: database.url });
    try {
      await herald.waitFor(/listening on (http:\/\/\S+\/graphql)/, 60_000);
      await client.connect();
      // Each pass of the rollup loop records how far it has looked, even with no messages yet.
      await waitUntil(async () => Number((await client.query('SELECT count(*)::int AS n FROM "MessageStatsRollupState"')).rows[0].n) > 0, { timeoutMs: 15_000 });
    } finally {
      await client.end().catch(() => {});
      herald.child.kill('SIGTERM');
      await herald.exited;
      await database.drop();
    }
  });
});

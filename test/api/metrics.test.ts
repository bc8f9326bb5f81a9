// GET /metrics: the counters and histograms move by what really happened (messages sent through
// the simulator, refused webhooks), the scrape-time gauges read the database, the pool and the
// open sockets, and METRICS_TOKEN closes the endpoint.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeConfig } from '../../src/config/config.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { createLogger } from '../../src/logging/logger.js';
import { startHerald, type RunningHerald } from '../../src/app/server.js';
import { createApiKey, ensureAccount } from '../../src/services/api-keys.js';
import {
  DEFAULT_BEHAVIOUR,
  FAST_DISPATCHER,
  MESSAGE_EVENTS,
  postWebhook,
  rawId,
  send,
  simulatorOf,
  startDeliveryHerald,
  subscribeWs,
  waitFor,
  waitForStatus,
  wsClient,
  wsReady,
} from '../support/delivery.js';
import { createOwnDatabase, NO_LIMITS, startTestHerald, testDatabaseKind, type TestHerald } from '../support/herald.js';

/** The samples of a Prometheus text exposition: `name{labels}` → value. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    // Labels in a stable order, so a test can name a series whatever order Herald writes.
    const labels = [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => `${k}="${v}"`).sort();
    samples.set(labels.length ? `${match[1]}{${labels.join(',')}}` : match[1], Number(match[3]));
  }
  return samples;
}

function series(name: string, labels: Record<string, string> = {}): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort();
  return parts.length ? `${name}{${parts.join(',')}}` : name;
}

async function scrape(t: TestHerald, headers: Record<string, string> = {}): Promise<Map<string, number>> {
  const response = await fetch(`${t.herald.url}/metrics`, { headers });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}

const value = (samples: Map<string, number>, name: string, labels?: Record<string, string>) => samples.get(series(name, labels)) ?? 0;
const moved = (before: Map<string, number>, after: Map<string, number>, name: string, labels?: Record<string, string>) =>
  value(after, name, labels) - value(before, name, labels);

describe('GET /metrics', () => {
  let t: TestHerald;
  beforeAll(async () => {
    t = await startDeliveryHerald();
    simulatorOf(t).configure({ ...DEFAULT_BEHAVIOUR, reportDelayMs: 20 });
  });
  afterAll(() => t?.stop());

  it('counts submissions, errors, dispatch and end-to-end latency by what the simulator did', async () => {
    const { sender } = await t.seedAccount();
    const before = await scrape(t);
    const delivered = await Promise.all(['+14155550100', '+14155550110', '+14155550120'].map((to) => send(sender, { to })));
    const rejected = await send(sender, { to: '+8613800000001' }); // …0001: INVALID_NUMBER at submission
    for (const m of delivered) await waitForStatus(sender, m.id, 'DELIVERED');
    await waitForStatus(sender, rejected.id, 'REJECTED');
    await simulatorOf(t).idle();
    const after = await scrape(t);

    const sim = { provider: 'simulator' };
    expect(moved(before, after, 'herald_provider_requests_total', { ...sim, outcome: 'accepted' })).toBe(3);
    expect(moved(before, after, 'herald_provider_requests_total', { ...sim, outcome: 'rejected' })).toBe(1);
    expect(moved(before, after, 'herald_provider_errors_total', { ...sim, code: 'INVALID_NUMBER' })).toBe(1);
    expect(moved(before, after, 'herald_dispatch_duration_seconds_count', { ...sim, outcome: 'accepted' })).toBe(3);
    expect(moved(before, after, 'herald_dispatch_duration_seconds_count', { ...sim, outcome: 'rejected' })).toBe(1);
    expect(moved(before, after, 'herald_dispatch_duration_seconds_sum', { ...sim, outcome: 'accepted' })).toBeGreaterThan(0);
    // The +Inf bucket holds every observation; a 30 s bucket holds these too (they took ms).
    expect(moved(before, after, 'herald_dispatch_duration_seconds_bucket', { ...sim, outcome: 'accepted', le: '+Inf' })).toBe(3);
    expect(moved(before, after, 'herald_dispatch_duration_seconds_bucket', { ...sim, outcome: 'accepted', le: '30' })).toBe(3);
    expect(moved(before, after, 'herald_delivery_duration_seconds_count', sim)).toBe(3);
    expect(moved(before, after, 'herald_delivery_duration_seconds_sum', sim)).toBeGreaterThan(0);
    // Gauges from the database: this Herald's database holds only this file's messages.
    expect(moved(before, after, 'herald_messages', { status: 'DELIVERED', ...sim })).toBe(3);
    expect(moved(before, after, 'herald_messages', { status: 'REJECTED', ...sim })).toBe(1);
    expect(value(after, 'herald_database_up')).toBe(1);
    expect(value(after, 'herald_provider_circuit_state', sim)).toBe(0);
    // Yoga's plugin: the four `Send` operations (sendMessage) were counted and timed.
    const send4 = { operationName: 'Send', operationType: 'mutation' };
    expect(moved(before, after, 'graphql_envelop_request', send4)).toBe(4);
    expect(moved(before, after, 'graphql_envelop_phase_execute_count', send4)).toBe(4);
    expect(moved(before, after, 'graphql_yoga_http_duration_count', { ...send4, method: 'POST', statusCode: '200' })).toBe(4);
    // Node's own process metrics are there too.
    expect(after.has('process_cpu_user_seconds_total')).toBe(true);
    expect(after.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('counts refused provider webhooks by reason, an unknown provider as "unknown"', async () => {
    const before = await scrape(t);
    expect((await postWebhook(t, { body: '{}', secret: 'not-the-secret' })).status).toBe(401);
    expect((await postWebhook(t, { body: '{}' })).status).toBe(401);
    expect((await postWebhook(t, { path: '/webhooks/made-up-name/status', body: '{}' })).status).toBe(404);
    const after = await scrape(t);
    expect(moved(before, after, 'herald_webhook_rejections_total', { provider: 'simulator', reason: 'signature' })).toBe(2);
    expect(moved(before, after, 'herald_webhook_rejections_total', { provider: 'unknown', reason: 'unknown_provider' })).toBe(1);
    expect([...after.keys()].some((k) => k.includes('made-up-name'))).toBe(false);
  });

  it('shows open graphql-ws sockets and the subscriptions on them', async () => {
    const { senderKey } = await t.seedAccount();
    const base = await scrape(t);
    const client = wsClient(t.url, senderKey);
    try {
      await wsReady(client);
      subscribeWs(client, MESSAGE_EVENTS, {}, (d) => d);
      await waitFor(async () => value(await scrape(t), 'herald_subscriptions') === value(base, 'herald_subscriptions') + 1, { what: 'the subscription to be counted' });
      const open = await scrape(t);
      expect(moved(base, open, 'herald_websocket_connections')).toBe(1);
    } finally {
      await client.dispose();
    }
    await waitFor(async () => value(await scrape(t), 'herald_websocket_connections') === value(base, 'herald_websocket_connections'), { what: 'the closed socket to be uncounted' });
    expect(value(await scrape(t), 'herald_subscriptions')).toBe(value(base, 'herald_subscriptions'));
  });
});

describe('METRICS_TOKEN', () => {
  let t: TestHerald;
  beforeAll(async () => {
    t = await startTestHerald({ metricsToken: 'scrape-token-123' });
  });
  afterAll(() => t?.stop());

  it('refuses a scrape without the bearer token or with another one, and serves it with the token', async () => {
    const without = await fetch(`${t.herald.url}/metrics`);
    expect(without.status).toBe(401);
    expect(without.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await without.text()).not.toMatch(/herald_/);
    expect((await fetch(`${t.herald.url}/metrics`, { headers: { authorization: 'Bearer scrape-token-124' } })).status).toBe(401);
    expect((await fetch(`${t.herald.url}/metrics`, { headers: { authorization: 'Bearer scrape-token' } })).status).toBe(401);
    const samples = await scrape(t, { authorization: 'Bearer scrape-token-123' });
    expect(samples.has('herald_database_up')).toBe(true);
  });
});

describe('request ids in the logs', () => {
  const lines: string[] = [];
  let herald: RunningHerald;
  let database: Database;
  let drop: (() => Promise<void>) | undefined;
  let key: string;
  beforeAll(async () => {
    // A dispatching Herald claims every due message of its database: on PostgreSQL it gets its own.
    const own = testDatabaseKind() === 'postgres' ? await createOwnDatabase(inject('postgresUrl')) : undefined;
    drop = own?.drop;
    database = await openDatabase({ databaseUrl: own?.url, dataDir: '/nonexistent', pgliteDataDir: 'memory://', holder: 'test' });
    const config = makeConfig({ port: 0, production: true, bootstrapAdminKey: false, logLevel: 'debug', dispatch: true, dispatcher: FAST_DISPATCHER });
    herald = await startHerald({ config, logger: createLogger(config, { write: (line: string) => void lines.push(line) }), database });
    const account = await ensureAccount(database.prisma, 'logs');
    await database.prisma.accountSettings.create({ data: { accountId: account.id, limits: NO_LIMITS } });
    key = (await createApiKey(database.prisma, { accountId: account.id, name: 'sender', role: 'SENDER' })).secret;
  });
  afterAll(async () => {
    await herald?.stop();
    await database?.close();
    await drop?.();
  });

  const post = (body: object, headers: Record<string, string> = {}) =>
    fetch(`${herald.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers }, body: JSON.stringify(body) });
  const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

  it("honours an incoming x-request-id: echoed in the answer and on the request's log lines, once each, secrets redacted", async () => {
    const response = await post({ query: 'mutation Send { sendMessage(input: { to: "+14155550100", body: "hi" }) { ... on SendMessageSuccess { data { id } } } }' }, { 'x-request-id': 'req-abc-123' });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('req-abc-123');
    const id = rawId(((await response.json()) as any).data.sendMessage.data.id);
    const own = await waitFor(() => {
      const found = parsed().filter((l) => l.requestId === 'req-abc-123');
      return found.some((l) => l.msg === 'request') ? found : undefined;
    }, { what: 'the access line' });
    expect(own.find((l) => l.msg === 'request')).toMatchObject({ method: 'POST', path: '/graphql', status: 200 });
    for (const line of lines.filter((l) => l.includes('req-abc-123'))) expect(line.match(/"requestId"/g)).toHaveLength(1);
    // Dispatch lines carry the message id and the round instead.
    const dispatched = await waitFor(() => parsed().find((l) => l.msg === 'provider answered' && l.messageId === id), { what: 'the dispatch line' });
    expect(dispatched).toMatchObject({ provider: 'simulator', outcome: 'accepted', dispatchRound: expect.any(String) });
    expect(dispatched.requestId).toBeUndefined();
    expect(lines.join('\n')).not.toContain(key);
  });

  it('makes one up when none (or an unusable one) came, and lines of other requests do not carry it', async () => {
    const first = await post({ query: '{ __typename }' });
    const generated = first.headers.get('x-request-id')!;
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    const junk = await post({ query: '{ __typename }' }, { 'x-request-id': 'has spaces and "quotes"' });
    const replaced = junk.headers.get('x-request-id')!;
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
    expect(replaced).not.toBe(generated);
    await waitFor(() => parsed().some((l) => l.requestId === replaced && l.msg === 'request'), { what: 'the access line' });
    expect(parsed().filter((l) => l.requestId === generated && l.msg === 'request')).toHaveLength(1);
    expect(lines.join('\n')).not.toContain('has spaces');
  });

  it('gives a graphql-ws socket an id of its own on its lines', async () => {
    const client = wsClient(`${herald.url}/graphql`, key);
    try {
      await wsReady(client);
      const connected = await waitFor(() => parsed().find((l) => l.msg === 'graphql-ws connected'), { what: 'the connect line' });
      expect(connected.requestId).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await client.dispose();
    }
  });
});

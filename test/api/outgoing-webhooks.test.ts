// Outgoing webhooks end to end: a real Herald (dispatcher and webhook worker on) POSTs to local
// receivers on 127.0.0.1, which check every signature with the reference `standardwebhooks`
// library and count what they get. Receivers on 127.0.0.1 need WEBHOOK_ALLOW_PRIVATE_URLS
// (allowPrivateUrls); the guard itself is tested in outgoing-webhooks-ssrf.test.ts.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeraldApiError, SMSClient } from '../../src/client/index.js';
import { send, startDeliveryHerald, waitFor, waitForStatus } from '../support/delivery.js';
import { expectNoErrors, type GraphQLCaller, type TestHerald } from '../support/herald.js';
import { ADD_IDENTITY, SIMULATE_INBOUND } from './inbound-support.js';

interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
}

let t: TestHerald;
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];

beforeAll(async () => {
  t = await startDeliveryHerald({
    outgoingWebhooks: { retrySchedule: [50, 50], pollMs: 50, timeoutMs: 5_000, batchSize: 50, disableAfterFailures: 1, disableAfterMs: 3_600_000, allowPrivateUrls: true },
  });
  // /fail/* answers 500, everything else 204.
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = req.url?.startsWith('/fail') ? 500 : 204;
      res.end(req.url?.startsWith('/fail') ? 'receiver is down' : undefined);
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await t?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

const ENDPOINT_FIELDS = 'id url description eventTypes enabled disabledReason disabledAt consecutiveFailures';

const CREATE = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) {
  __typename ... on CreateWebhookEndpointSuccess { data { secret endpoint { ${ENDPOINT_FIELDS} } } }
  ... on Error { code message } ... on ValidationError { issues { path message } } } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(id: $id, input: $input) {
  __typename ... on UpdateWebhookEndpointSuccess { data { ${ENDPOINT_FIELDS} } } ... on Error { code message } } }`;
const DELETE = `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { __typename ... on Error { code } } }`;
const ROTATE = `mutation($id: ID!) { rotateWebhookSecret(id: $id) { __typename ... on RotateWebhookSecretSuccess { data { secret } } ... on Error { code } } }`;
const LIST = `{ webhookEndpoints { ${ENDPOINT_FIELDS} } }`;
const RETRY = `mutation($id: ID!) { retryWebhookDelivery(id: $id) {
  __typename ... on RetryWebhookDeliverySuccess { data { id status attempts } } ... on Error { code message } ... on ValidationError { issues { path message } } } }`;
const DELIVERIES = `query($endpointId: ID!, $first: Int, $after: String) { webhookDeliveries(endpointId: $endpointId, first: $first, after: $after) {
  edges { node { id eventId eventType status attempts nextAttemptAt lastStatusCode lastError payload
    log { attempt statusCode durationMs error nextAttemptAt } } }
  pageInfo { hasNextPage endCursor } } }`;

async function createEndpoint(caller: GraphQLCaller, input: Record<string, unknown>) {
  const result = expectNoErrors(await caller<any>(CREATE, { input })).createWebhookEndpoint;
  if (result.__typename !== 'CreateWebhookEndpointSuccess') throw new Error(JSON.stringify(result));
  return result.data as { secret: string; endpoint: { id: string; url: string; enabled: boolean } };
}

async function deliveries(caller: GraphQLCaller, endpointId: string): Promise<any[]> {
  const all: any[] = [];
  let after: string | undefined;
  for (;;) {
    const page = expectNoErrors(await caller<any>(DELIVERIES, { endpointId, first: 100, after })).webhookDeliveries;
    all.push(...page.edges.map((e: any) => e.node));
    if (!page.pageInfo.hasNextPage) return all;
    after = page.pageInfo.endCursor;
  }
}

it('POSTs every event once per subscribed endpoint, signed (Standard Webhooks), and logs each delivery', async () => {
  const account = await t.seedAccount();
  const all = await createEndpoint(account.admin, {
    url: `${receiverUrl}/all`,
    eventTypes: ['MESSAGE_STATUS_CHANGED', 'MESSAGE_SENT', 'MESSAGE_DELIVERED', 'MESSAGE_FAILED', 'INBOUND_RECEIVED'],
    description: 'everything',
  });
  const finals = await createEndpoint(account.admin, { url: `${receiverUrl}/finals`, eventTypes: ['MESSAGE_DELIVERED', 'MESSAGE_FAILED', 'INBOUND_RECEIVED'] });
  expect(all.secret).toMatch(/^whsec_/);
  expect(all.secret).not.toBe(finals.secret);

  const delivered = await send(account.sender, { to: '+14155550123', body: 'webhook me' });
  const rejected = await send(account.sender, { to: '+14155550001', body: 'rejected at submission' });
  await waitForStatus(account.sender, delivered.id, 'DELIVERED');
  await waitForStatus(account.sender, rejected.id, 'REJECTED');
  const number = '+14155559001';
  expect(expectNoErrors(await account.admin<any>(ADD_IDENTITY, { value: number })).addSenderIdentity.__typename).toBe('AddSenderIdentitySuccess');
  expect(expectNoErrors(await account.admin<any>(SIMULATE_INBOUND, { from: '+14155550177', to: number, body: 'hello back' })).simulateInboundMessage.__typename).toBe(
    'SimulateInboundMessageSuccess',
  );

  // Every outbox row delivered: the log's count is what the receivers must have seen.
  const logs = await waitFor(
    async () => {
      const [a, f] = [await deliveries(account.admin, all.endpoint.id), await deliveries(account.admin, finals.endpoint.id)];
      return a.length > 0 && f.length >= 3 && [...a, ...f].every((d) => d.status === 'SUCCEEDED') && a.some((d) => d.eventType === 'INBOUND_RECEIVED') ? { a, f } : undefined;
    },
    { timeoutMs: 10_000, what: 'every delivery SUCCEEDED' },
  );
  const mine = (path: string) => received.filter((r) => r.path === path && logs[path === '/all' ? 'a' : 'f'].some((d) => d.eventId === r.headers['webhook-id']));
  for (const [path, secret, log] of [['/all', all.secret, logs.a], ['/finals', finals.secret, logs.f]] as const) {
    const got = mine(path);
    // Every event arrived, and every POST is an attempt in the log (a retry after a timeout on a
    // loaded machine resends the same webhook-id: receivers deduplicate on it).
    expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(log.length);
    expect(got).toHaveLength(log.reduce((sum, d) => sum + d.attempts, 0));
    const webhook = new Webhook(secret);
    for (const request of got) expect(() => webhook.verify(request.body, request.headers)).not.toThrow();
    // The other endpoint's secret does not verify: each endpoint signs with its own.
    expect(() => new Webhook(secret === all.secret ? finals.secret : all.secret).verify(got[0]!.body, got[0]!.headers)).toThrow();
    for (const d of log) {
      expect(d).toMatchObject({ lastStatusCode: 204, lastError: null, nextAttemptAt: null });
      expect(d.log).toHaveLength(d.attempts);
      expect(d.log.at(-1)).toMatchObject({ attempt: d.attempts, statusCode: 204, error: null });
    }
  }
  const bodies = (path: string) => [...new Map(mine(path).map((r) => [r.headers['webhook-id'], JSON.parse(r.body)])).values()];
  const statusChanges = bodies('/all').filter((b) => b.type === 'message.status_changed' && b.data.id === delivered.id).map((b) => b.data.status);
  expect(statusChanges.sort()).toEqual(['DELIVERED', 'QUEUED', 'SENDING', 'SENT']);
  expect(bodies('/all').filter((b) => b.type === 'message.sent')).toHaveLength(1);
  expect(bodies('/finals').map((b) => `${b.type}:${b.data.status ?? b.data.body}`).sort()).toEqual([
    'inbound.received:hello back',
    'message.delivered:DELIVERED',
    'message.failed:REJECTED',
  ]);
  expect(bodies('/finals').find((b) => b.type === 'message.delivered').data).toMatchObject({ id: delivered.id, to: '+14155550123', provider: 'simulator' });
});

it('retries a failing endpoint on the schedule, then disables it with a visible reason', async () => {
  const account = await t.seedAccount();
  const { endpoint } = await createEndpoint(account.admin, { url: `${receiverUrl}/fail/x`, eventTypes: ['MESSAGE_DELIVERED'] });
  const message = await send(account.sender, { to: '+14155550124', body: 'nobody listens' });
  await waitForStatus(account.sender, message.id, 'DELIVERED');
  const disabled = await waitFor(
    async () => expectNoErrors(await account.admin<any>(LIST)).webhookEndpoints.find((e: any) => e.id === endpoint.id && !e.enabled),
    { timeoutMs: 10_000, what: 'endpoint disabled' },
  );
  expect(disabled.disabledReason).toMatch(/disabled by Herald: 1 deliveries in a row failed every attempt/);
  expect(disabled.disabledAt).not.toBeNull();
  const [delivery] = await deliveries(account.admin, endpoint.id);
  // Three attempts (the first and two retries 50 ms apart), each logged with its answer.
  expect(delivery).toMatchObject({ status: 'FAILED', attempts: 3, lastStatusCode: 500, nextAttemptAt: null });
  expect(delivery.log.map((l: any) => [l.attempt, l.statusCode, l.error])).toEqual([
    [1, 500, 'HTTP 500: receiver is down'],
    [2, 500, 'HTTP 500: receiver is down'],
    [3, 500, 'HTTP 500: receiver is down'],
  ]);
  expect(delivery.log[0].nextAttemptAt).not.toBeNull();
  expect(delivery.log[2].nextAttemptAt).toBeNull();
  expect(received.filter((r) => r.headers['webhook-id'] === delivery.eventId)).toHaveLength(3);

  // Disabled: new events are not written for it; enabling again clears the reason.
  const before = (await deliveries(account.admin, endpoint.id)).length;
  const second = await send(account.sender, { to: '+14155550125', body: 'while disabled' });
  await waitForStatus(account.sender, second.id, 'DELIVERED');
  expect((await deliveries(account.admin, endpoint.id)).length).toBe(before);
  // A FAILED delivery of a disabled endpoint cannot be retried (it would never be claimed).
  const retry = (caller: GraphQLCaller, id: string) => caller<any>(RETRY, { id });
  const whileDisabled = expectNoErrors(await retry(account.admin, delivery.id)).retryWebhookDelivery;
  expect(whileDisabled).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['id'], message: 'its endpoint is disabled: enable it first' }] });

  const enabled = expectNoErrors(await account.admin<any>(UPDATE, { id: endpoint.id, input: { enabled: true } })).updateWebhookEndpoint;
  expect(enabled.data).toMatchObject({ enabled: true, disabledReason: null, consecutiveFailures: 0 });

  // Retried after the receiver is fixed: one more attempt, same webhook-id, SUCCEEDED.
  expect(expectNoErrors(await account.admin<any>(UPDATE, { id: endpoint.id, input: { url: `${receiverUrl}/fixed/x` } })).updateWebhookEndpoint.__typename).toBe('UpdateWebhookEndpointSuccess');
  const retried = expectNoErrors(await retry(account.admin, delivery.id)).retryWebhookDelivery;
  expect(retried).toMatchObject({ __typename: 'RetryWebhookDeliverySuccess', data: { id: delivery.id, status: 'PENDING', attempts: 3 } });
  const done = await waitFor(
    async () => (await deliveries(account.admin, endpoint.id)).find((d) => d.eventId === delivery.eventId && d.status === 'SUCCEEDED'),
    { timeoutMs: 10_000, what: 'retried delivery succeeded' },
  );
  expect(done).toMatchObject({ attempts: 4, lastStatusCode: 204, lastError: null, nextAttemptAt: null });
  expect(done.log.map((l: any) => [l.attempt, l.statusCode])).toEqual([[1, 500], [2, 500], [3, 500], [4, 204]]);
  expect(received.filter((r) => r.path === '/fixed/x' && r.headers['webhook-id'] === delivery.eventId)).toHaveLength(1);

  // Only FAILED ones; unknown, malformed and foreign ids are NOT_FOUND; SENDER keys are refused.
  const sdk = new SMSClient({ url: t.url, apiKey: account.adminKey });
  await expect(sdk.retryWebhookDelivery(delivery.id)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  const again = expectNoErrors(await retry(account.admin, delivery.id)).retryWebhookDelivery;
  expect(again).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['id'], message: 'is SUCCEEDED: only a FAILED delivery can be retried' }] });
  expect(expectNoErrors(await retry(account.admin, '00000000-0000-4000-8000-000000000000')).retryWebhookDelivery).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
  expect(expectNoErrors(await retry(account.admin, 'not-an-id')).retryWebhookDelivery).toMatchObject({ __typename: 'NotFoundError' });
  const other = await t.seedAccount();
  expect(expectNoErrors(await retry(other.admin, delivery.id)).retryWebhookDelivery).toMatchObject({ __typename: 'NotFoundError' });
  expect(expectNoErrors(await retry(account.sender, delivery.id)).retryWebhookDelivery).toMatchObject({ __typename: 'ForbiddenError' });
});

describe('managing endpoints', () => {
  it('refuses URLs that are not http or https, and empty event types, as typed validation errors', async () => {
    const account = await t.seedAccount();
    for (const url of ['ftp://example.com/hook', 'not a url', 'javascript:alert(1)', 'file:///etc/passwd', 'http://user:pw@example.com/']) {
      const result = expectNoErrors(await account.admin<any>(CREATE, { input: { url, eventTypes: ['MESSAGE_DELIVERED'] } })).createWebhookEndpoint;
      expect(result, url).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED', issues: [{ path: ['input', 'url'] }] });
    }
    const empty = expectNoErrors(await account.admin<any>(CREATE, { input: { url: 'https://example.com/h', eventTypes: [] } })).createWebhookEndpoint;
    expect(empty).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['input', 'eventTypes'] }] });
    expect(expectNoErrors(await account.admin<any>(LIST)).webhookEndpoints).toEqual([]);
  });

  it("accepts loopback, private and link-local URLs when WEBHOOK_ALLOW_PRIVATE_URLS is set (receivers on the operator's own network)", async () => {
    const account = await t.seedAccount();
    for (const url of ['http://127.0.0.1:8080/hook', 'http://localhost:8080/hook', 'http://169.254.169.254/hook', 'http://10.0.0.8/hook', 'http://[::1]/hook']) {
      expect((await createEndpoint(account.admin, { url, eventTypes: ['MESSAGE_DELIVERED'] })).endpoint.url).toBe(url);
    }
  });

  it('updates, rotates and deletes; a SENDER key is refused', async () => {
    const account = await t.seedAccount();
    const created = await createEndpoint(account.admin, { url: 'https://example.com/a', eventTypes: ['MESSAGE_DELIVERED'] });
    const updated = expectNoErrors(
      await account.admin<any>(UPDATE, { id: created.endpoint.id, input: { url: 'https://example.com/b', eventTypes: ['MESSAGE_FAILED', 'MESSAGE_SENT'], enabled: false } }),
    ).updateWebhookEndpoint;
    expect(updated.data).toMatchObject({ url: 'https://example.com/b', eventTypes: ['MESSAGE_FAILED', 'MESSAGE_SENT'], enabled: false, disabledReason: null });
    const rotated = expectNoErrors(await account.admin<any>(ROTATE, { id: created.endpoint.id })).rotateWebhookSecret;
    expect(rotated.data.secret).toMatch(/^whsec_/);
    expect(rotated.data.secret).not.toBe(created.secret);
    expect(expectNoErrors(await account.sender<any>(CREATE, { input: { url: 'https://example.com/c', eventTypes: ['MESSAGE_SENT'] } })).createWebhookEndpoint).toMatchObject({
      __typename: 'ForbiddenError',
    });
    expect(expectNoErrors(await account.sender<any>(ROTATE, { id: created.endpoint.id })).rotateWebhookSecret.__typename).toBe('ForbiddenError');
    expect((await account.sender<any>(LIST)).errors?.length).toBeGreaterThan(0);
    expect(expectNoErrors(await account.admin<any>(DELETE, { id: created.endpoint.id })).deleteWebhookEndpoint.__typename).toBe('DeleteWebhookEndpointSuccess');
    expect(expectNoErrors(await account.admin<any>(LIST)).webhookEndpoints).toEqual([]);
    expect(expectNoErrors(await account.admin<any>(DELETE, { id: created.endpoint.id })).deleteWebhookEndpoint).toMatchObject({ __typename: 'NotFoundError' });
  });

  it("keeps accounts apart: another account cannot see, change, rotate, delete or read the log of an endpoint", async () => {
    const owner = await t.seedAccount();
    const other = await t.seedAccount();
    const { endpoint } = await createEndpoint(owner.admin, { url: `${receiverUrl}/owner`, eventTypes: ['MESSAGE_STATUS_CHANGED'] });
    const message = await send(owner.sender, { to: '+14155550126', body: 'mine' });
    await waitForStatus(owner.sender, message.id, 'DELIVERED');
    await waitFor(async () => (await deliveries(owner.admin, endpoint.id)).length >= 4, { timeoutMs: 10_000, what: "owner's deliveries" });

    expect(expectNoErrors(await other.admin<any>(LIST)).webhookEndpoints).toEqual([]);
    expect(await deliveries(other.admin, endpoint.id)).toEqual([]);
    expect(expectNoErrors(await other.admin<any>(`query($id: ID!) { node(id: $id) { id } }`, { id: endpoint.id })).node).toBeNull();
    expect(expectNoErrors(await other.admin<any>(UPDATE, { id: endpoint.id, input: { url: `${receiverUrl}/stolen` } })).updateWebhookEndpoint.__typename).toBe('NotFoundError');
    expect(expectNoErrors(await other.admin<any>(ROTATE, { id: endpoint.id })).rotateWebhookSecret.__typename).toBe('NotFoundError');
    expect(expectNoErrors(await other.admin<any>(DELETE, { id: endpoint.id })).deleteWebhookEndpoint.__typename).toBe('NotFoundError');
    // The other account's own traffic never reaches the owner's endpoint.
    const theirs = await send(other.sender, { to: '+14155550127', body: 'theirs' });
    await waitForStatus(other.sender, theirs.id, 'DELIVERED');
    expect(expectNoErrors(await owner.admin<any>(LIST)).webhookEndpoints).toMatchObject([{ id: endpoint.id, url: `${receiverUrl}/owner`, enabled: true }]);
    const ownerBodies = received.filter((r) => r.path === '/owner').map((r) => JSON.parse(r.body));
    expect(ownerBodies.every((b) => b.data.id === message.id)).toBe(true);
  });
});

it('is in the typed SDK: create, list, update, rotate, read the log, retry, delete; typed errors', async () => {
  const account = await t.seedAccount();
  const client = new SMSClient({ url: t.url, apiKey: account.adminKey });
  const { endpoint, secret } = await client.createWebhookEndpoint({ url: `${receiverUrl}/sdk`, eventTypes: ['MESSAGE_DELIVERED'], description: 'sdk' });
  expect(secret).toMatch(/^whsec_/);
  expect((await client.webhookEndpoints()).map((e) => e.id)).toEqual([endpoint.id]);
  expect((await client.updateWebhookEndpoint(endpoint.id, { eventTypes: ['MESSAGE_DELIVERED', 'MESSAGE_FAILED'] })).eventTypes).toEqual(['MESSAGE_DELIVERED', 'MESSAGE_FAILED']);
  expect(await client.rotateWebhookSecret(endpoint.id)).not.toBe(secret);
  expect((await client.webhookDeliveries(endpoint.id)).edges).toEqual([]);
  await expect(client.createWebhookEndpoint({ url: 'ftp://x', eventTypes: ['MESSAGE_SENT'] })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  await expect(client.retryWebhookDelivery('00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  await client.deleteWebhookEndpoint(endpoint.id);
  await expect(client.deleteWebhookEndpoint(endpoint.id)).rejects.toBeInstanceOf(HeraldApiError);
});

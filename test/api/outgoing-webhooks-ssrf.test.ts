// The outgoing-webhook SSRF guard through the API, as configured by default (no
// WEBHOOK_ALLOW_PRIVATE_URLS): endpoints on loopback, private, link-local and metadata addresses
// are refused as typed validation errors, and a delivery to a name that has come to resolve to
// a private address (DNS rebinding) fails its attempt without reaching the receiver.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookEndpoint } from '../../src/services/webhook-endpoints.js';
import { createStore } from '../../src/store/store.js';
import { send, startDeliveryHerald, waitFor, waitForStatus } from '../support/delivery.js';
import { expectNoErrors, type TestHerald } from '../support/herald.js';

let t: TestHerald;
let receiver: Server;
let receiverPort: number;
const received: string[] = [];

beforeAll(async () => {
  t = await startDeliveryHerald({
    // One attempt, so a refused delivery is FAILED at once; the guard is on (the default).
    outgoingWebhooks: { retrySchedule: [], pollMs: 50, timeoutMs: 5_000, batchSize: 50, disableAfterFailures: 100, disableAfterMs: 3_600_000, allowPrivateUrls: false },
  });
  receiver = createServer((req, res) => {
    received.push(req.url ?? '');
    req.resume();
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverPort = (receiver.address() as AddressInfo).port;
});

afterAll(async () => {
  await t?.stop();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
});

const CREATE = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) {
  __typename ... on CreateWebhookEndpointSuccess { data { endpoint { id url } } }
  ... on Error { code message } ... on ValidationError { issues { path message } } } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(id: $id, input: $input) {
  __typename ... on UpdateWebhookEndpointSuccess { data { url } } ... on Error { code message } ... on ValidationError { issues { path message } } } }`;

const PRIVATE_URLS = [
  'http://127.0.0.1:8080/hook',
  'http://localhost:8080/hook', // a name resolving to 127.0.0.1
  'http://169.254.169.254/latest/meta-data/', // cloud metadata
  'http://10.0.0.8/hook',
  'http://172.16.5.4/hook',
  'http://192.168.1.10/hook',
  'http://100.64.0.1/hook', // carrier-grade NAT
  'http://0.0.0.0:4000/hook',
  'http://2130706433/hook', // 127.0.0.1 written as one number
  'http://0x7f.1/hook', // 127.0.0.1 in hex shorthand
  'http://[::1]:8080/hook',
  'http://[::ffff:127.0.0.1]/hook',
  'http://[::ffff:a9fe:a9fe]/hook', // 169.254.169.254, IPv4-mapped
  'http://[fd00::1]/hook',
  'http://[fe80::1]/hook',
  'https://224.0.0.1/hook',
];

describe('creating and changing endpoints', () => {
  it('refuses loopback, private, link-local, metadata and other non-public URLs with VALIDATION_FAILED on url, and writes nothing', async () => {
    const account = await t.seedAccount();
    for (const url of PRIVATE_URLS) {
      const result = expectNoErrors(await account.admin<any>(CREATE, { input: { url, eventTypes: ['MESSAGE_DELIVERED'] } })).createWebhookEndpoint;
      expect(result, url).toMatchObject({
        __typename: 'ValidationError',
        code: 'VALIDATION_FAILED',
        issues: [{ path: ['input', 'url'], message: expect.stringMatching(/^must be a public address/) }],
      });
    }
    expect(await t.database.prisma.webhookEndpoint.count({ where: { accountId: account.accountId } })).toBe(0);
  });

  it('refuses changing an endpoint to a private URL, and keeps the URL it had', async () => {
    const account = await t.seedAccount();
    // A public address literal: accepted without any DNS (the test runs offline).
    const created = expectNoErrors(await account.admin<any>(CREATE, { input: { url: 'https://93.184.216.34/hook', eventTypes: ['MESSAGE_DELIVERED'] } })).createWebhookEndpoint;
    expect(created.__typename).toBe('CreateWebhookEndpointSuccess');
    const { id } = created.data.endpoint;
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://localhost/hook', 'http://[::1]/hook']) {
      expect(expectNoErrors(await account.admin<any>(UPDATE, { id, input: { url } })).updateWebhookEndpoint, url).toMatchObject({
        __typename: 'ValidationError',
        code: 'VALIDATION_FAILED',
        issues: [{ path: ['input', 'url'] }],
      });
    }
    expect(expectNoErrors(await account.admin<any>(`{ webhookEndpoints { url } }`)).webhookEndpoints).toEqual([{ url: 'https://93.184.216.34/hook' }]);
  });
});

it('refuses a delivery to a name that now resolves to a private address: a failed attempt with a clear error, nothing sent', async () => {
  const account = await t.seedAccount();
  // The endpoint was saved while its name resolved to a public address; localhost now answers 127.0.0.1.
  // (A store of its own: the account is new, so Herald's endpoint cache holds nothing of it.)
  const saved = await createWebhookEndpoint(
    createStore(t.database),
    account.accountId,
    { url: `http://localhost:${receiverPort}/rebound`, eventTypes: ['message.delivered'] },
    { allowPrivateUrls: false, resolve: async () => ['93.184.216.34'] },
  );
  if (saved instanceof Error) throw saved;
  const message = await send(account.sender, { to: '+14155550140', body: 'rebinding' });
  await waitForStatus(account.sender, message.id, 'DELIVERED');
  const [endpoint] = expectNoErrors(await account.admin<any>(`{ webhookEndpoints { id } }`)).webhookEndpoints;
  const delivery = await waitFor(
    async () => {
      const page = expectNoErrors(
        await account.admin<any>(`query($id: ID!) { webhookDeliveries(endpointId: $id) { edges { node { status attempts lastStatusCode lastError log { statusCode error } } } } }`, {
          id: endpoint.id,
        }),
      ).webhookDeliveries;
      return page.edges.find((e: any) => e.node.status === 'FAILED')?.node;
    },
    { timeoutMs: 10_000, what: 'the delivery FAILED' },
  );
  expect(delivery).toMatchObject({
    attempts: 1,
    lastStatusCode: null,
    lastError: 'refused: localhost resolves to a private address',
    log: [{ statusCode: null, error: 'refused: localhost resolves to a private address' }],
  });
  expect(received).toEqual([]);
});

// Replies from handsets through the simulator's signed inbound webhook: routing by sender
// identity, idempotent storage, the live subscription, conversations in both directions, and
// tenancy.
import type { Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SeededAccount, TestHerald } from '../support/herald.js';
import { expectNoErrors } from '../support/herald.js';
import {
  postWebhook,
  startDeliveryHerald,
  subscribeSse,
  subscribeWs,
  waitForStatus,
  wsClient,
  wsReady,
  type Collected,
} from '../support/delivery.js';
import { mutate, send } from '../support/templates.js';
import {
  addIdentity,
  conversationPage,
  INBOUND_PATH,
  INBOUND_RECEIVED,
  inboundMessages,
  numberPool,
  postInbound,
  SIMULATE_INBOUND,
  wholeConversation,
} from './inbound-support.js';

let t: TestHerald;
const clients: Client[] = [];
const subscriptions: Collected[] = [];
const ourNumber = numberPool(1);
const handset = numberPool(2);

beforeAll(async () => {
  t = await startDeliveryHerald();
});
afterEach(async () => {
  await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});
afterAll(() => t?.stop());

/** An account with one number of its own. */
async function accountWithNumber(): Promise<SeededAccount & { number: string }> {
  const account = await t.seedAccount();
  const number = ourNumber();
  await addIdentity(account.admin, number);
  return { ...account, number };
}

async function sent(account: SeededAccount, to: string, from: string, body: string): Promise<any> {
  const result = await send(account.sender, { to, from, body });
  expect(result.__typename, JSON.stringify(result)).toBe('SendMessageSuccess');
  return result.data;
}

/**
 * Waits until `subscription` listens: a subscription is set up asynchronously, so probe
 * replies are sent until one arrives. Returns the probes' bodies (to leave out later).
 */
async function untilListening(subscription: Collected, account: { number: string }, pick: (v: any) => string): Promise<Set<string>> {
  const probes = new Set<string>();
  for (let round = 0; round < 10; round++) {
    const body = `probe ${round} ${Math.random()}`;
    probes.add(body);
    expect((await postInbound(t, { from: handset(), to: account.number, body, receivedAt: new Date().toISOString() })).status).toBe(200);
    const heard = await subscription.waitUntil((values) => values.some((v) => probes.has(pick(v))), 1_000).then(() => true, () => false);
    if (heard) return probes;
  }
  throw new Error('the subscription never received a probe');
}

describe('the inbound webhook', () => {
  it('stores a reply for the account owning `to`, linked to the last message it sent to `from`', async () => {
    const account = await accountWithNumber();
    const phone = handset();
    const first = await sent(account, phone, account.number, 'Your order shipped');
    const last = await sent(account, phone, account.number, 'Your order arrives today');
    await sent(account, handset(), account.number, 'to someone else');

    const response = await postInbound(t, { from: phone, to: account.number, body: 'Thanks!', receivedAt: '2026-03-01T10:00:00.000Z' });
    expect(response).toEqual({ status: 200, json: { received: 1, stored: 1, duplicates: 0, unrouted: 0 } });

    const [reply] = await inboundMessages(account.sender);
    expect(reply).toMatchObject({
      from: phone,
      to: account.number,
      body: 'Thanks!',
      receivedAt: '2026-03-01T10:00:00.000Z',
      provider: 'simulator',
      keyword: null,
      direction: 'INBOUND',
      inReplyTo: { id: last.id, body: 'Your order arrives today' },
    });
    expect(reply.providerMessageId).toMatch(/^sha256:[0-9a-f]{64}:0$/);
    expect(first.id).not.toBe(last.id);
    // node(id) finds it too.
    const node = expectNoErrors(await account.sender(`query($id: ID!) { node(id: $id) { __typename ... on InboundMessage { body } } }`, { id: reply.id }));
    expect(node.node).toEqual({ __typename: 'InboundMessage', body: 'Thanks!' });
  });

  it('normalises numbers: a `to` and `from` in another format still route and match', async () => {
    const account = await accountWithNumber();
    const phone = handset();
    const message = await sent(account, phone, account.number, 'hello');
    const national = (e164: string) => `+1 (${e164.slice(2, 5)}) ${e164.slice(5, 8)}-${e164.slice(8)}`;
    expect((await postInbound(t, { from: national(phone), to: national(account.number), body: 'hi back' })).json.stored).toBe(1);
    const [reply] = await inboundMessages(account.sender);
    expect(reply).toMatchObject({ from: phone, to: account.number, inReplyTo: { id: message.id } });
  });

  it('stores a batch (an array) in order, and a reply with no earlier message has no inReplyTo', async () => {
    const account = await accountWithNumber();
    const phone = handset();
    const batch = ['one', 'two', 'three'].map((body, i) => ({ from: phone, to: account.number, body, receivedAt: new Date(Date.now() + i).toISOString() }));
    expect((await postInbound(t, batch)).json).toEqual({ received: 3, stored: 3, duplicates: 0, unrouted: 0 });
    const stored = await inboundMessages(account.sender, { from: phone });
    expect(stored.map((m) => m.body)).toEqual(['three', 'two', 'one']); // newest first
    expect(stored.every((m) => m.inReplyTo === null)).toBe(true);
  });

  it('stores a duplicated delivery once, whether or not the payload carries an id, even signed again later', async () => {
    const account = await accountWithNumber();
    const phone = handset();
    const withoutId = { from: phone, to: account.number, body: 'same bytes', receivedAt: new Date().toISOString() };
    expect((await postInbound(t, withoutId)).json).toMatchObject({ stored: 1, duplicates: 0 });
    // A retry is signed anew (another timestamp) over the same body.
    expect((await postInbound(t, withoutId, { signedAt: new Date(Date.now() + 2_000) })).json).toMatchObject({ stored: 0, duplicates: 1 });

    const withId = { from: phone, to: account.number, body: 'carries an id', providerMessageId: `sim_in_${Math.random()}` };
    expect((await postInbound(t, withId)).json).toMatchObject({ stored: 1 });
    // The provider's id decides, not the bytes: another receivedAt is the same message.
    expect((await postInbound(t, { ...withId, receivedAt: new Date().toISOString() })).json).toMatchObject({ stored: 0, duplicates: 1 });

    expect((await inboundMessages(account.sender, { from: phone })).map((m) => m.body)).toEqual(['carries an id', 'same bytes']);
  });

  it('answers a forged, unsigned or stale call with 401 and stores nothing', async () => {
    const account = await accountWithNumber();
    const payload = JSON.stringify({ from: handset(), to: account.number, body: 'forged' });
    expect((await postWebhook(t, { path: INBOUND_PATH, body: payload, secret: 'not-the-secret' })).status).toBe(401);
    expect((await postWebhook(t, { path: INBOUND_PATH, body: payload })).status).toBe(401);
    expect((await postInbound(t, payload, { signedAt: new Date(Date.now() - 3_600_000) })).status).toBe(401);
    expect(await inboundMessages(account.sender)).toEqual([]);
  });

  it('answers a malformed body with 400 and stores nothing', async () => {
    const account = await accountWithNumber();
    expect((await postInbound(t, { from: handset(), to: account.number })).status).toBe(400);
    expect((await postInbound(t, 'not json')).status).toBe(400);
    expect(await inboundMessages(account.sender)).toEqual([]);
  });

  it('answers 2xx for a `to` no account owns (so the provider stops retrying) and stores it nowhere', async () => {
    const stray = ourNumber();
    const response = await postInbound(t, { from: handset(), to: stray, body: 'anyone there?' });
    expect(response).toEqual({ status: 200, json: { received: 1, stored: 0, duplicates: 0, unrouted: 1 } });
    expect(await t.database.prisma.inboundMessage.count({ where: { to: stray } })).toBe(0);
  });
});

describe('inboundMessageReceived and conversation', () => {
  it('a reply to a sent message arrives over graphql-ws and shows in the conversation after it, with inReplyTo', async () => {
    const account = await accountWithNumber();
    const phone = handset();
    const client = wsClient(t.url, account.senderKey);
    clients.push(client);
    await wsReady(client);
    const live = subscribeWs(client, INBOUND_RECEIVED, {}, (d) => d.inboundMessageReceived);
    subscriptions.push(live);
    const probes = await untilListening(live, account, (v) => v.body);

    const message = await sent(account, phone, account.number, 'Reply YES to confirm');
    await waitForStatus(account.sender, message.id, 'DELIVERED');
    // Through the simulator, as a handset would: it POSTs the signed webhook itself.
    const simulated = await mutate(account.admin, SIMULATE_INBOUND, { from: phone, to: account.number, body: 'Confirmed, thanks' });
    expect(simulated.__typename, JSON.stringify(simulated)).toBe('SimulateInboundMessageSuccess');

    const [received] = (await live.waitUntil((values) => values.some((v) => !probes.has(v.body)))).filter((v) => !probes.has(v.body));
    expect(received).toEqual(simulated.data);
    expect(received).toMatchObject({ from: phone, to: account.number, body: 'Confirmed, thanks', inReplyTo: { id: message.id } });
    expect(received.providerMessageId).toMatch(/^sim_in_/);
    expect(live.errors).toEqual([]);

    const conversation = await conversationPage(account.sender, { phone });
    expect(conversation.edges.map((e: any) => [e.direction, e.node.__typename, e.node.id])).toEqual([
      ['INBOUND', 'InboundMessage', received.id],
      ['OUTBOUND', 'Message', message.id],
    ]);
    expect(conversation.edges[0].node).toMatchObject({ direction: 'INBOUND', inReplyTo: { id: message.id } });
    expect(conversation.edges[1].node).toMatchObject({ direction: 'OUTBOUND', to: phone, from: account.number, status: 'DELIVERED' });
    expect(new Date(conversation.edges[0].at).getTime()).toBeGreaterThanOrEqual(new Date(conversation.edges[1].at).getTime());
  });

  it('over SSE too, and only to subscribers of the receiving account', async () => {
    const account = await accountWithNumber();
    const other = await accountWithNumber();
    const overSse = subscribeSse(t.url, account.senderKey, INBOUND_RECEIVED, {}, (d) => d.inboundMessageReceived);
    const ofOther = subscribeSse(t.url, other.senderKey, INBOUND_RECEIVED, {}, (d) => d.inboundMessageReceived);
    subscriptions.push(overSse, ofOther);
    await untilListening(overSse, account, (v) => v.body);
    const otherProbes = await untilListening(ofOther, other, (v) => v.body);

    await postInbound(t, { from: handset(), to: account.number, body: 'for the first account only' });
    await overSse.waitUntil((values) => values.some((v) => v.body === 'for the first account only'));
    // One more message to the other account, after which everything before it has been seen.
    await postInbound(t, { from: handset(), to: other.number, body: 'marker' });
    await ofOther.waitUntil((values) => values.some((v) => v.body === 'marker'));
    expect(ofOther.values.map((v) => v.body).filter((b) => !otherProbes.has(b))).toEqual(['marker']);
    expect(overSse.values.every((v) => v.to === account.number)).toBe(true);
  });

  it('interleaves both directions newest first, and pages through them without gaps or repeats', async () => {
    const account = await accountWithNumber();
    const phone = handset();
    const expected: [string, string][] = [];
    for (let i = 0; i < 4; i++) {
      await sent(account, phone, account.number, `out ${i}`);
      expected.push(['OUTBOUND', `out ${i}`]);
      // Each reply in its own call: a batch would store both in one millisecond, which is fine
      // but makes the expected order depend on ids.
      for (let j = 0; j < (i % 2) + 1; j++) {
        await postInbound(t, { from: phone, to: account.number, body: `in ${i}.${j}`, receivedAt: new Date().toISOString() });
        expected.push(['INBOUND', `in ${i}.${j}`]);
      }
    }
    // Not part of it: another number's messages, and the same number's messages of another account.
    await sent(account, handset(), account.number, 'elsewhere');
    const stranger = await accountWithNumber();
    await sent(stranger, phone, stranger.number, 'from the stranger');
    await postInbound(t, { from: phone, to: stranger.number, body: 'to the stranger' });

    expected.reverse();
    expect(await wholeConversation(account.sender, phone)).toEqual(expected);
    for (const size of [1, 2, 3, 5]) expect(await wholeConversation(account.sender, phone, size)).toEqual(expected);

    const firstPage = await conversationPage(account.sender, { phone, first: 2 });
    expect(firstPage.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false, startCursor: firstPage.edges[0].cursor });
    const next = await conversationPage(account.sender, { phone, first: 2, after: firstPage.pageInfo.endCursor });
    expect(next.pageInfo.hasPreviousPage).toBe(true);
    expect(next.edges[0].cursor).not.toBe(firstPage.edges[1].cursor);
    // Any number format finds the same conversation.
    expect(await wholeConversation(account.sender, `+1 ${phone.slice(2)}`)).toEqual(expected);
  });

  it('refuses a malformed cursor or page size as bad input', async () => {
    const account = await accountWithNumber();
    const bad = await account.sender(`{ conversation(phone: "+14155550100", after: "bm9wZQ") { edges { cursor } } }`);
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const big = await account.sender(`{ conversation(phone: "+14155550100", first: 1000) { edges { cursor } } }`);
    expect(big.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('tenancy', () => {
  it("another account's key sees none of the inbound messages, conversations or identities", async () => {
    const owner = await accountWithNumber();
    const stranger = await t.seedAccount();
    const phone = handset();
    await sent(owner, phone, owner.number, 'private');
    await postInbound(t, { from: phone, to: owner.number, body: 'private reply' });
    const [reply] = await inboundMessages(owner.sender);
    expect(reply.body).toBe('private reply');

    for (const caller of [stranger.sender, stranger.admin]) {
      expect(await inboundMessages(caller)).toEqual([]);
      expect(await inboundMessages(caller, { from: phone })).toEqual([]);
      expect((await conversationPage(caller, { phone })).edges).toEqual([]);
      const node = expectNoErrors(await caller(`query($id: ID!) { node(id: $id) { id } }`, { id: reply.id }));
      expect(node.node).toBeNull();
    }
    const identities = expectNoErrors(await stranger.admin(`{ senderIdentities { value } }`));
    expect(identities.senderIdentities).toEqual([]);
  });

  it('simulateInboundMessage only sends to the caller\'s own numbers', async () => {
    const owner = await accountWithNumber();
    const stranger = await accountWithNumber();
    const result = await mutate(stranger.admin, SIMULATE_INBOUND, { from: handset(), to: owner.number, body: 'STOP' });
    expect(result).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED', issues: [{ path: ['to'] }] });
    expect(await inboundMessages(owner.sender)).toEqual([]);
  });
});

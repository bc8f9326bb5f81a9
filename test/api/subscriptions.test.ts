// Delivery loop, as a subscriber sees it: messageStatusChanged over graphql-ws and SSE (current
// state first, every transition in order, then complete), messageEvents per account with its
// status filter, and NOT_FOUND for another account's message.
import type { Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SeededAccount, TestHerald } from '../support/herald.js';
import {
  DEFAULT_BEHAVIOUR,
  getMessage,
  MESSAGE_EVENTS,
  send,
  simulatorOf,
  startDeliveryHerald,
  STATUS_CHANGED,
  subscribeSse,
  subscribeWs,
  waitForStatus,
  wsClient,
  wsReady,
  type Collected,
} from '../support/delivery.js';

let t: TestHerald;
const clients: Client[] = [];
const subscriptions: Collected[] = [];

beforeAll(async () => {
  t = await startDeliveryHerald();
});
afterEach(async () => {
  // A dispatcher paused by a test is always running again for the next one.
  t.herald.dispatcher!.start();
  simulatorOf(t).configure(DEFAULT_BEHAVIOUR);
  await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});
afterAll(() => t?.stop());

async function connect(account: SeededAccount, key = account.senderKey): Promise<Client> {
  const client = wsClient(t.url, key);
  clients.push(client);
  await wsReady(client);
  return client;
}

function track<T extends Collected>(subscription: T): T {
  subscriptions.push(subscription);
  return subscription;
}

const statusOf = (data: any) => data.messageStatusChanged.status as string;

/**
 * Sends a message while the dispatcher is paused, so it is certainly QUEUED when `subscribe`
 * runs; checks the subscription's first value is that current state, then resumes dispatch.
 */
async function followFromQueued(account: SeededAccount, subscribe: (id: string) => Collected<string>) {
  // The report comes well after the dispatcher records SENT, so SENT is a transition of its own.
  simulatorOf(t).configure({ reportDelayMs: 300 });
  await t.herald.dispatcher!.stop();
  const message = await send(account.sender, { to: '+14155550100' });
  const subscription = track(subscribe(message.id));
  expect(await subscription.waitForValues(1)).toEqual(['QUEUED']);
  t.herald.dispatcher!.start();
  await subscription.waitForEnd(5_000);
  return { message, subscription };
}

describe('messageStatusChanged', () => {
  it('over graphql-ws: QUEUED (the current state) first, then SENDING, SENT, DELIVERED, then completes', async () => {
    const account = await t.seedAccount();
    const client = await connect(account);
    const { message, subscription } = await followFromQueued(account, (id) => subscribeWs(client, STATUS_CHANGED, { id }, statusOf));
    expect(subscription.errors).toEqual([]);
    expect(subscription.values).toEqual(['QUEUED', 'SENDING', 'SENT', 'DELIVERED']);
    expect(subscription.completed).toBe(true);
    // The subscription agrees with the stored timeline.
    const stored = await getMessage(account.sender, message.id);
    expect(stored!.status).toBe('DELIVERED');
    expect(stored!.events.filter((e) => e.applied).map((e) => e.status)).toEqual(['QUEUED', 'SENDING', 'SENT', 'DELIVERED']);
  });

  it('over SSE: the same sequence, and the stream ends with `event: complete`', async () => {
    const account = await t.seedAccount();
    const { subscription } = await followFromQueued(account, (id) => subscribeSse(t.url, account.senderKey, STATUS_CHANGED, { id }, statusOf));
    expect(subscription.errors).toEqual([]);
    expect(subscription.values).toEqual(['QUEUED', 'SENDING', 'SENT', 'DELIVERED']);
    expect(subscription.completed).toBe(true);
  });

  it('yields each payload with the selected fields of the message at that status', async () => {
    const account = await t.seedAccount();
    const client = await connect(account);
    await t.herald.dispatcher!.stop();
    const message = await send(account.sender, { to: '+8613800000000' });
    const subscription = track(
      subscribeWs(client, `subscription($id: ID!) { messageStatusChanged(id: $id) { id to status errorCode } }`, { id: message.id }, (d) => d.messageStatusChanged),
    );
    await subscription.waitForValues(1);
    t.herald.dispatcher!.start();
    await subscription.waitForEnd();
    expect(subscription.values[0]).toEqual({ id: message.id, to: '+8613800000000', status: 'QUEUED', errorCode: null });
    expect(subscription.values.at(-1)).toEqual({ id: message.id, to: '+8613800000000', status: 'UNDELIVERED', errorCode: 'UNDELIVERABLE' });
  });

  it('gives a subscriber arriving after the end the final state alone, then completes', async () => {
    const account = await t.seedAccount();
    const message = await send(account.sender, { to: '+8613800000001' });
    await waitForStatus(account.sender, message.id, 'REJECTED');
    const client = await connect(account);
    const overWs = track(subscribeWs(client, STATUS_CHANGED, { id: message.id }, statusOf));
    const overSse = track(subscribeSse(t.url, account.senderKey, STATUS_CHANGED, { id: message.id }, statusOf));
    await Promise.all([overWs.waitForEnd(), overSse.waitForEnd()]);
    expect(overWs.values).toEqual(['REJECTED']);
    expect(overSse.values).toEqual(['REJECTED']);
  });

  it("answers another account's message id with NOT_FOUND and no events, over graphql-ws and SSE", async () => {
    const owner = await t.seedAccount();
    const stranger = await t.seedAccount();
    await t.herald.dispatcher!.stop();
    const message = await send(owner.sender, { to: '+14155550100' });
    const client = await connect(stranger);
    const overWs = track(subscribeWs(client, STATUS_CHANGED, { id: message.id }, statusOf));
    const overSse = track(subscribeSse(t.url, stranger.senderKey, STATUS_CHANGED, { id: message.id }, statusOf));
    await Promise.all([overWs.waitForEnd(), overSse.waitForEnd()]);
    // Dispatching the message afterwards must not leak its transitions to the stranger either.
    t.herald.dispatcher!.start();
    await waitForStatus(owner.sender, message.id, 'DELIVERED');
    for (const subscription of [overWs, overSse]) {
      expect(subscription.values).toEqual([]);
      expect(subscription.errors.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    }
    // The owner's id is fine; a malformed id is NOT_FOUND too, never an internal error.
    const garbage = track(subscribeWs(client, STATUS_CHANGED, { id: 'not-an-id' }, statusOf));
    await garbage.waitForEnd();
    expect(garbage.errors.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
  });
});

describe('messageEvents', () => {
  const eventOf = (data: any) => ({ id: data.messageEvents.id as string, status: data.messageEvents.status as string });
  const timeline = (events: { id: string; status: string }[], id: string) => events.filter((e) => e.id === id).map((e) => e.status);

  it("streams every transition of the account's own messages, honours the status filter, and never shows another account's", async () => {
    const a = await t.seedAccount();
    const b = await t.seedAccount();
    simulatorOf(t).configure({ reportDelayMs: 300 });
    const [clientA, clientB] = await Promise.all([connect(a), connect(b)]);
    const all = track(subscribeWs(clientA, MESSAGE_EVENTS, {}, eventOf));
    const finals = track(subscribeWs(clientA, MESSAGE_EVENTS, { filter: { status: ['DELIVERED', 'UNDELIVERED', 'REJECTED'] } }, eventOf));
    const overSse = track(subscribeSse(t.url, a.senderKey, MESSAGE_EVENTS, { filter: { status: ['SENT'] } }, eventOf));
    const ofB = track(subscribeWs(clientB, MESSAGE_EVENTS, {}, eventOf));
    const twin = track(subscribeSse(t.url, a.senderKey, MESSAGE_EVENTS, {}, eventOf)); // a second subscriber of A

    // A subscription is live once it has seen something. Probe messages, followed to their end,
    // prove every subscription listens before the messages under test are sent.
    const probes = new Set<string>();
    const probesOfA: string[] = [];
    const probesOfB: string[] = [];
    const subscriptions = [all, finals, overSse, ofB, twin];
    const sawProbe = (values: { id: string }[]) => values.some((e) => probes.has(e.id));
    for (let round = 0; round < 5 && !subscriptions.every((s) => sawProbe(s.values)); round++) {
      const probeA = await send(a.sender, { to: '+14155550199' });
      const probeB = await send(b.sender, { to: '+14155550199' });
      probesOfA.push(probeA.id);
      probesOfB.push(probeB.id);
      probes.add(probeA.id).add(probeB.id);
      await waitForStatus(a.sender, probeA.id, 'DELIVERED');
      await waitForStatus(b.sender, probeB.id, 'DELIVERED');
      await Promise.all(subscriptions.map((s) => s.waitUntil(sawProbe, 2_000).catch(() => {})));
    }
    expect(subscriptions.map((s) => sawProbe(s.values))).toEqual([true, true, true, true, true]);

    const delivered = await send(a.sender, { to: '+14155550100' });
    const undelivered = await send(a.sender, { to: '+8613800000000' });
    const rejected = await send(a.sender, { to: '+8613800000001' });
    const other = await send(b.sender, { to: '+14155550100' });
    for (const [caller, id] of [[a.sender, delivered.id], [a.sender, undelivered.id], [a.sender, rejected.id], [b.sender, other.id]] as const) {
      await waitForStatus(caller, id);
    }
    const tested = (s: Collected<{ id: string; status: string }>, count: number) => s.waitUntil((v) => v.filter((e) => !probes.has(e.id)).length >= count);
    await tested(all, 4 + 4 + 3);
    await tested(twin, 4 + 4 + 3);
    await tested(finals, 3);
    await tested(overSse, 2);
    await tested(ofB, 4);

    expect(timeline(all.values, delivered.id)).toEqual(['QUEUED', 'SENDING', 'SENT', 'DELIVERED']);
    expect(timeline(all.values, undelivered.id)).toEqual(['QUEUED', 'SENDING', 'SENT', 'UNDELIVERED']);
    expect(timeline(all.values, rejected.id)).toEqual(['QUEUED', 'SENDING', 'REJECTED']);
    // Every subscriber gets every event (none is handed to one subscriber only).
    for (const id of [delivered.id, undelivered.id, rejected.id]) expect(timeline(twin.values, id)).toEqual(timeline(all.values, id));
    const withoutProbes = (s: Collected<{ id: string; status: string }>) => s.values.filter((e) => !probes.has(e.id));
    expect(withoutProbes(finals).sort((x, y) => x.status.localeCompare(y.status))).toEqual([
      { id: delivered.id, status: 'DELIVERED' },
      { id: rejected.id, status: 'REJECTED' },
      { id: undelivered.id, status: 'UNDELIVERED' },
    ]);
    expect(withoutProbes(overSse).map((e) => e.status)).toEqual(['SENT', 'SENT']);
    expect(new Set(withoutProbes(overSse).map((e) => e.id))).toEqual(new Set([delivered.id, undelivered.id]));
    // The filters hold for the probes too.
    expect(new Set(finals.values.map((e) => e.status))).toEqual(new Set(['DELIVERED', 'UNDELIVERED', 'REJECTED']));
    expect(new Set(overSse.values.map((e) => e.status))).toEqual(new Set(['SENT']));
    expect(timeline(ofB.values, other.id)).toEqual(['QUEUED', 'SENDING', 'SENT', 'DELIVERED']);

    // Tenancy: nothing of B reached A's subscriptions, nothing of A reached B's.
    const idsOfA = new Set([...probesOfA, delivered.id, undelivered.id, rejected.id]);
    const idsOfB = new Set([...probesOfB, other.id]);
    for (const s of [all, finals, overSse, twin]) expect(s.values.filter((e) => idsOfB.has(e.id))).toEqual([]);
    expect(ofB.values.filter((e) => idsOfA.has(e.id))).toEqual([]);
    expect(all.values.every((e) => idsOfA.has(e.id))).toBe(true);
    expect(ofB.values.every((e) => idsOfB.has(e.id))).toBe(true);
    for (const s of subscriptions) {
      expect(s.errors).toEqual([]);
      expect(s.completed).toBe(false); // messageEvents never completes by itself
    }
  });
});

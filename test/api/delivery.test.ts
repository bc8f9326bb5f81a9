// Delivery loop acceptance: what happens to a message after sendMessage, as the API shows it
// (status, error code, timeline of events), driven by the real dispatcher and the simulator
// calling Herald's webhook over HTTP. Outcomes by number suffix (docs/api.md "Simulator provider"),
// duplicated, out-of-order and late reports, cancelMessage and scheduled sending.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestHerald } from '../support/herald.js';
import { expectNoErrors } from '../support/herald.js';
import {
  DEFAULT_BEHAVIOUR,
  FAST_DISPATCHER,
  getMessage,
  postWebhook,
  rawId,
  reportBody,
  send,
  simulatorOf,
  simulatorSecret,
  startDeliveryHerald,
  STATUS_CHANGED,
  subscribeWs,
  waitForStatus,
  wsClient,
  wsReady,
  type MessageView,
} from '../support/delivery.js';

let t: TestHerald;
beforeAll(async () => {
  t = await startDeliveryHerald();
});
afterEach(async () => {
  t.herald.dispatcher!.start(); // if a test paused it
  // Reports of one test must not land in the next: wait for the simulator, then reset it.
  await simulatorOf(t).idle();
  simulatorOf(t).configure(DEFAULT_BEHAVIOUR);
});
afterAll(() => t?.stop());

const applied = (m: MessageView) => m.events.filter((e) => e.applied);
const shape = (events: MessageView['events']) => events.map(({ status, source, rawStatus, errorCode, applied }) => ({ status, source, rawStatus, errorCode, applied }));

describe('outcomes by recipient', () => {
  it('delivers an ordinary number: QUEUED → SENDING → SENT → DELIVERED, with provider ids and times', async () => {
    const { sender } = await t.seedAccount();
    simulatorOf(t).configure({ reportDelayMs: 200 }); // the report comes after SENT is recorded
    const sent = await send(sender, { to: '+14155550100' });
    // (The mutation answers with the current state: the dispatcher, woken at once, may already
    // have claimed it. The stored timeline below starts at QUEUED either way.)
    const message = await waitForStatus(sender, sent.id, 'DELIVERED');
    expect(message).toMatchObject({ errorCode: null, provider: 'simulator', providerMessageId: expect.stringMatching(/^sim_/) });
    expect(Date.parse(message.deliveredAt!)).toBeGreaterThanOrEqual(Date.parse(message.sentAt!));
    expect(shape(message.events)).toEqual([
      { status: 'QUEUED', source: 'API', rawStatus: null, errorCode: null, applied: true },
      { status: 'SENDING', source: 'DISPATCHER', rawStatus: null, errorCode: null, applied: true },
      { status: 'SENT', source: 'DISPATCHER', rawStatus: 'accepted', errorCode: null, applied: true },
      { status: 'DELIVERED', source: 'PROVIDER', rawStatus: 'delivered', errorCode: null, applied: true },
    ]);
  });

  it('…0000 is UNDELIVERED with errorCode UNDELIVERABLE, reported by the provider after SENT', async () => {
    const { sender } = await t.seedAccount();
    simulatorOf(t).configure({ reportDelayMs: 200 });
    const sent = await send(sender, { to: '+8613800000000' });
    const message = await waitForStatus(sender, sent.id, 'UNDELIVERED');
    expect(message.errorCode).toBe('UNDELIVERABLE');
    expect(message.errorMessage).toBeTruthy();
    expect(message.deliveredAt).toBeNull();
    expect(shape(applied(message)).map((e) => e.status)).toEqual(['QUEUED', 'SENDING', 'SENT', 'UNDELIVERED']);
    expect(message.events.at(-1)).toMatchObject({ status: 'UNDELIVERED', source: 'PROVIDER', provider: 'simulator', rawStatus: 'undelivered', errorCode: 'UNDELIVERABLE' });
  });

  it('…0001 is REJECTED at submission and never SENT', async () => {
    const { sender } = await t.seedAccount();
    const sent = await send(sender, { to: '+8613800000001' });
    const message = await waitForStatus(sender, sent.id, 'REJECTED');
    await simulatorOf(t).idle();
    const after = (await getMessage(sender, sent.id))!;
    expect(after).toMatchObject({ status: 'REJECTED', errorCode: 'INVALID_NUMBER', sentAt: null, providerMessageId: null });
    expect(after.events).toEqual(message.events); // nothing came later
    expect(shape(after.events)).toEqual([
      { status: 'QUEUED', source: 'API', rawStatus: null, errorCode: null, applied: true },
      { status: 'SENDING', source: 'DISPATCHER', rawStatus: null, errorCode: null, applied: true },
      { status: 'REJECTED', source: 'DISPATCHER', rawStatus: 'destination_rejected', errorCode: 'INVALID_NUMBER', applied: true },
    ]);
  });

  it(`…0002 times out, is retried (${FAST_DISPATCHER.maxAttempts} attempts in all), then FAILED with TIMEOUT within about a second`, async () => {
    const { sender } = await t.seedAccount();
    const started = Date.now();
    const sent = await send(sender, { to: '+8613800000002' });
    const message = await waitForStatus(sender, sent.id, 'FAILED', 3_000);
    const elapsed = Date.now() - started;
    expect(message).toMatchObject({ errorCode: 'TIMEOUT', sentAt: null, providerMessageId: null });
    expect(message.errorMessage).toContain(`after ${FAST_DISPATCHER.maxAttempts} attempts`);
    const retries = message.events.filter((e) => e.status === 'SENDING' && !e.applied);
    expect(retries).toHaveLength(FAST_DISPATCHER.maxAttempts - 1);
    for (const retry of retries) expect(retry).toMatchObject({ source: 'DISPATCHER', errorCode: 'TIMEOUT', rawStatus: 'timeout' });
    expect(shape(applied(message)).map((e) => e.status)).toEqual(['QUEUED', 'SENDING', 'FAILED']);
    expect(message.events.at(-1)).toMatchObject({ status: 'FAILED', errorCode: 'TIMEOUT', applied: true });
    // Retries are spaced (backoff), each waiting at least retryBaseMs/2 after the previous try.
    const times = message.events.slice(1).map((e) => Date.parse(e.at));
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1]);
    console.info(`[measure] …0002 FAILED ${elapsed} ms after sendMessage (${FAST_DISPATCHER.maxAttempts} attempts)`);
    expect(elapsed).toBeLessThan(2_500);
  });
});

describe('duplicated, out-of-order and late reports', () => {
  it('a duplicated final report is recorded with applied=false and changes nothing', async () => {
    const { sender } = await t.seedAccount();
    simulatorOf(t).configure({ duplicateReports: true });
    const sent = await send(sender, { to: '+14155550100' });
    const first = await waitForStatus(sender, sent.id, 'DELIVERED');
    await simulatorOf(t).idle();
    const message = (await getMessage(sender, sent.id))!;
    expect(message.status).toBe('DELIVERED');
    expect(message.deliveredAt).toBe(first.deliveredAt);
    const delivered = message.events.filter((e) => e.status === 'DELIVERED');
    expect(delivered.map((e) => ({ source: e.source, applied: e.applied }))).toEqual([
      { source: 'PROVIDER', applied: true },
      { source: 'PROVIDER', applied: false },
    ]);
    expect(applied(message).map((e) => e.status).slice(-1)).toEqual(['DELIVERED']);
  });

  it('a duplicated UNDELIVERED report leaves UNDELIVERED and its error code', async () => {
    const { sender } = await t.seedAccount();
    simulatorOf(t).configure({ duplicateReports: true });
    const sent = await send(sender, { to: '+8613800000000' });
    await waitForStatus(sender, sent.id, 'UNDELIVERED');
    await simulatorOf(t).idle();
    const message = (await getMessage(sender, sent.id))!;
    expect(message).toMatchObject({ status: 'UNDELIVERED', errorCode: 'UNDELIVERABLE' });
    expect(message.events.filter((e) => e.status === 'UNDELIVERED').map((e) => e.applied)).toEqual([true, false]);
  });

  it('an `accepted` report arriving after the final one is recorded as a late SENT with applied=false; still DELIVERED', async () => {
    const { sender } = await t.seedAccount();
    simulatorOf(t).configure({ outOfOrder: true });
    const sent = await send(sender, { to: '+14155550100' });
    const first = await waitForStatus(sender, sent.id, 'DELIVERED');
    await simulatorOf(t).idle();
    const message = (await getMessage(sender, sent.id))!;
    expect(message).toMatchObject({ status: 'DELIVERED', deliveredAt: first.deliveredAt, sentAt: first.sentAt });
    expect(message.events.at(-1)).toMatchObject({ status: 'SENT', source: 'PROVIDER', rawStatus: 'accepted', applied: false });
    expect(applied(message).at(-1)!.status).toBe('DELIVERED');
  });

  it('duplicated and out of order together: one applied DELIVERED, the rest recorded and ignored', async () => {
    const { sender } = await t.seedAccount();
    simulatorOf(t).configure({ duplicateReports: true, outOfOrder: true });
    const sent = await send(sender, { to: '+14155550100' });
    await waitForStatus(sender, sent.id, 'DELIVERED');
    await simulatorOf(t).idle();
    const message = (await getMessage(sender, sent.id))!;
    expect(message.status).toBe('DELIVERED');
    const fromProvider = message.events.filter((e) => e.source === 'PROVIDER');
    expect(fromProvider.map((e) => [e.status, e.applied])).toEqual([
      ['DELIVERED', true],
      ['DELIVERED', false],
      ['SENT', false],
    ]);
  });

  it('a late report still applies to a message that is only SENT', async () => {
    const { sender } = await t.seedAccount();
    simulatorOf(t).configure({ lateByMs: 400 });
    const sent = await send(sender, { to: '+14155550100' });
    const meanwhile = await waitForStatus(sender, sent.id, 'SENT');
    const message = await waitForStatus(sender, sent.id, 'DELIVERED');
    // deliveredAt is the provider's report time, 450 ms after it accepted (a little before sentAt).
    expect(Date.parse(message.deliveredAt!) - Date.parse(meanwhile.sentAt!)).toBeGreaterThanOrEqual(250);
    expect(message.events.at(-1)).toMatchObject({ status: 'DELIVERED', applied: true });
  });

  it('a late DELIVERED report never reopens a message another report already made final', async () => {
    const { sender } = await t.seedAccount();
    simulatorOf(t).configure({ lateByMs: 2_000 });
    const sent = await send(sender, { to: '+14155550100' });
    const sentState = await waitForStatus(sender, sent.id, 'SENT');
    // The provider first says the message expired (a signed report, as the provider sends)…
    const expired = reportBody({ reference: rawId(sent.id), providerMessageId: sentState.providerMessageId!, status: 'expired' });
    expect((await postWebhook(t, { body: expired, secret: await simulatorSecret(t) })).status).toBe(200);
    await waitForStatus(sender, sent.id, 'EXPIRED');
    // …then its late `delivered` report arrives: recorded, not applied.
    await simulatorOf(t).idle();
    const message = (await getMessage(sender, sent.id))!;
    expect(message).toMatchObject({ status: 'EXPIRED', deliveredAt: null });
    expect(message.events.slice(-2).map((e) => [e.status, e.rawStatus, e.applied])).toEqual([
      ['EXPIRED', 'expired', true],
      ['DELIVERED', 'delivered', false],
    ]);
  });
});

const CANCEL = /* GraphQL */ `
  mutation Cancel($id: ID!) {
    cancelMessage(id: $id) {
      __typename
      ... on CancelMessageSuccess { data { id status events { status source applied } } }
      ... on Error { code message }
    }
  }
`;

describe('cancelMessage', () => {
  it('cancels a SCHEDULED message: CANCELED with an event; canceling again is NOT_CANCELABLE', async () => {
    const { sender } = await t.seedAccount();
    const sent = await send(sender, { to: '+14155550100', scheduledAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect(sent.status).toBe('SCHEDULED');
    const result = expectNoErrors(await sender(CANCEL, { id: sent.id })).cancelMessage;
    expect(result).toEqual({
      __typename: 'CancelMessageSuccess',
      data: {
        id: sent.id,
        status: 'CANCELED',
        events: [
          { status: 'SCHEDULED', source: 'API', applied: true },
          { status: 'CANCELED', source: 'API', applied: true },
        ],
      },
    });
    // Canceling again is refused; the message stays as it is.
    expect(expectNoErrors(await sender(CANCEL, { id: sent.id })).cancelMessage).toMatchObject({ __typename: 'NotCancelableError', code: 'NOT_CANCELABLE' });
    expect((await getMessage(sender, sent.id))!.events).toHaveLength(2);
  });

  it('cancels a scheduled message shortly before it is due, so the dispatcher never takes it', async () => {
    const { sender } = await t.seedAccount();
    const scheduledAt = new Date(Date.now() + 1_500);
    const sent = await send(sender, { to: '+14155550100', scheduledAt: scheduledAt.toISOString() });
    expect(expectNoErrors(await sender(CANCEL, { id: sent.id })).cancelMessage.data.status).toBe('CANCELED');
    expect(Date.now()).toBeLessThan(scheduledAt.getTime()); // canceled before it was due
    // A later message, sent after the canceled one was due, is dispatched; the canceled one was passed over.
    const marker = await send(sender, { to: '+14155550100', scheduledAt: new Date(scheduledAt.getTime() + 200).toISOString() });
    await waitForStatus(sender, marker.id, 'DELIVERED', 5_000);
    const message = (await getMessage(sender, sent.id))!;
    expect(message.status).toBe('CANCELED');
    expect(message.events.map((e) => e.status)).toEqual(['SCHEDULED', 'CANCELED']);
  });

  it('cancels a QUEUED message before the dispatcher takes it; it is then passed over', async () => {
    const { sender } = await t.seedAccount();
    await t.herald.dispatcher!.stop();
    const sent = await send(sender, { to: '+14155550100' });
    expect(sent.status).toBe('QUEUED');
    expect(expectNoErrors(await sender(CANCEL, { id: sent.id })).cancelMessage.data.status).toBe('CANCELED');
    t.herald.dispatcher!.start();
    const marker = await send(sender, { to: '+14155550100' });
    await waitForStatus(sender, marker.id, 'DELIVERED');
    const message = (await getMessage(sender, sent.id))!;
    expect(message).toMatchObject({ status: 'CANCELED', sentAt: null, provider: null });
    expect(message.events.map((e) => [e.status, e.source])).toEqual([
      ['QUEUED', 'API'],
      ['CANCELED', 'API'],
    ]);
  });

  it('refuses a DELIVERED message with NotCancelableError and changes nothing', async () => {
    const { sender } = await t.seedAccount();
    const sent = await send(sender, { to: '+14155550100' });
    const before = await waitForStatus(sender, sent.id, 'DELIVERED');
    const result = expectNoErrors(await sender(CANCEL, { id: sent.id })).cancelMessage;
    expect(result).toMatchObject({ __typename: 'NotCancelableError', code: 'NOT_CANCELABLE' });
    expect(result.message).toMatch(/DELIVERED/);
    await simulatorOf(t).idle();
    expect(await getMessage(sender, sent.id)).toEqual(before);
  });

  it("answers another account's message id with NotFoundError and leaves the message alone", async () => {
    const owner = await t.seedAccount();
    const stranger = await t.seedAccount();
    const sent = await send(owner.sender, { to: '+14155550100', scheduledAt: new Date(Date.now() + 3_600_000).toISOString() });
    for (const id of [sent.id, rawId(sent.id)]) {
      expect(expectNoErrors(await stranger.sender(CANCEL, { id })).cancelMessage).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    }
    expect(expectNoErrors(await stranger.sender(CANCEL, { id: 'garbage' })).cancelMessage).toMatchObject({ __typename: 'NotFoundError' });
    const message = (await getMessage(owner.sender, sent.id))!;
    expect(message.status).toBe('SCHEDULED');
    expect(message.events).toHaveLength(1);
  });
});

describe('scheduled sending', () => {
  it('goes SCHEDULED → QUEUED → SENDING → SENT → DELIVERED, and is SENT within 1.5 s of scheduledAt (never before)', async () => {
    const account = await t.seedAccount();
    simulatorOf(t).configure({ reportDelayMs: 200 });
    const client = wsClient(t.url, account.senderKey);
    try {
      await wsReady(client);
      const scheduledAt = new Date(Date.now() + 1_000);
      const sent = await send(account.sender, { to: '+14155550100', scheduledAt: scheduledAt.toISOString() });
      expect(sent).toMatchObject({ status: 'SCHEDULED', scheduledAt: scheduledAt.toISOString() });
      const seenAt: Record<string, number> = {};
      const subscription = subscribeWs(client, STATUS_CHANGED, { id: sent.id }, (d) => {
        const status = d.messageStatusChanged.status as string;
        seenAt[status] = Date.now();
        return status;
      });
      await subscription.waitForEnd(5_000);
      expect(subscription.errors).toEqual([]);
      expect(subscription.values).toEqual(['SCHEDULED', 'QUEUED', 'SENDING', 'SENT', 'DELIVERED']);

      const message = (await getMessage(account.sender, sent.id))!;
      expect(shape(message.events).map((e) => [e.status, e.source])).toEqual([
        ['SCHEDULED', 'API'],
        ['QUEUED', 'DISPATCHER'],
        ['SENDING', 'DISPATCHER'],
        ['SENT', 'DISPATCHER'],
        ['DELIVERED', 'PROVIDER'],
      ]);
      const lateness = Date.parse(message.sentAt!) - scheduledAt.getTime();
      const queuedLateness = Date.parse(message.events[1]!.at) - scheduledAt.getTime();
      console.info(
        `[measure] scheduled message: QUEUED ${queuedLateness} ms, SENT ${lateness} ms after scheduledAt (sentAt); ` +
          `subscriber saw SENT ${seenAt.SENT! - scheduledAt.getTime()} ms after`,
      );
      expect(queuedLateness).toBeGreaterThanOrEqual(0);
      expect(lateness).toBeGreaterThanOrEqual(0);
      expect(lateness).toBeLessThanOrEqual(1_500);
    } finally {
      await client.dispose();
    }
  });
});

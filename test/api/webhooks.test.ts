// POST /webhooks/:provider/status under abuse and under the provider's own mistakes: forged,
// tampered, replayed or unsigned calls are refused (401) and change nothing; unknown paths 404,
// oversized bodies 413, malformed reports 400; repeated reports are recorded and ignored;
// reports about a provider id not yet known are kept and applied once it is.
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPendingReports, sweepPendingReports } from '../../src/dispatch/reports.js';
import { computeSignature, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../src/providers/simulator/simulator-signature.js';
import { createStore, type Store } from '../../src/store/store.js';
import type { GraphQLCaller, TestHerald } from '../support/herald.js';
import {
  getMessage,
  postWebhook,
  rawId,
  reportBody,
  send,
  simulatorOf,
  simulatorSecret,
  startDeliveryHerald,
  STATUS_WEBHOOK,
  waitForStatus,
  type MessageView,
} from '../support/delivery.js';

let t: TestHerald;
let secret: string;
/** The store these tests apply pending reports with, as the dispatcher's would. */
let store: Store;
beforeAll(async () => {
  t = await startDeliveryHerald();
  store = createStore(t.database);
  secret = await simulatorSecret(t);
  // The simulator accepts but does not report (for ten minutes): messages wait in SENT, and
  // this file plays the provider, posting the reports itself. Pending reports die at stop().
  simulatorOf(t).configure({ reportDelayMs: 600_000 });
});
afterAll(() => t?.stop());

/** A message the provider has accepted (SENT, with a providerMessageId) and not reported on. */
async function sentMessage(): Promise<{ sender: GraphQLCaller; message: MessageView; report: (status: string, extra?: object) => string }> {
  const { sender } = await t.seedAccount();
  const sent = await send(sender, { to: '+14155550100' });
  const message = await waitForStatus(sender, sent.id, 'SENT');
  const report = (status: string, extra: object = {}) =>
    reportBody({ reference: rawId(message.id), providerMessageId: message.providerMessageId!, status, ...extra });
  return { sender, message, report };
}

/** Everything a webhook could have changed about a message, and the pending reports. */
async function snapshot(sender: GraphQLCaller, id: string) {
  const message = (await getMessage(sender, id))!;
  return { message, pending: await t.database.prisma.pendingStatusReport.count() };
}

/** POSTs a body of `size` bytes in chunks, without a content-length (chunked encoding). */
function postChunked(path: string, size: number, headers: Record<string, string>): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(`${t.herald.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', (error) => resolve(`error: ${error.message}`));
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    const write = () => {
      while (sent < size) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', write);
      }
      req.end();
    };
    write();
  });
}

describe('refused webhook calls change nothing', () => {
  it('401 for a forged, tampered, replayed, future-dated or unsigned report', async () => {
    const { sender, message, report } = await sentMessage();
    const before = await snapshot(sender, message.id);
    const delivered = report('delivered');
    const now = new Date();
    const ts = Math.floor(now.getTime() / 1000);
    const cases: Record<string, Parameters<typeof postWebhook>[1]> = {
      'wrong secret': { body: delivered, secret: 'not-the-secret' },
      'tampered body (signature of another body)': { body: delivered, secret, signBody: report('undelivered') },
      'timestamp changed after signing': {
        body: delivered,
        headers: { [TIMESTAMP_HEADER]: String(ts + 1), [SIGNATURE_HEADER]: computeSignature(secret, ts, Buffer.from(delivered)) },
      },
      'replayed (signed 301 s ago)': { body: delivered, secret, signedAt: new Date(now.getTime() - 301_000) },
      // 330 s, not 301: the cases run one after another from the same `now`, and a slow run can take
      // seconds before this one is checked, which would bring a 301 s skew back inside the 300 s window.
      'signed 330 s in the future': { body: delivered, secret, signedAt: new Date(now.getTime() + 330_000) },
      'no signature headers': { body: delivered },
      'timestamp without signature': { body: delivered, headers: { [TIMESTAMP_HEADER]: String(ts) } },
      'signature without timestamp': { body: delivered, headers: { [SIGNATURE_HEADER]: computeSignature(secret, ts, Buffer.from(delivered)) } },
      'malformed signature': { body: delivered, headers: { [TIMESTAMP_HEADER]: String(ts), [SIGNATURE_HEADER]: 'zz' } },
    };
    for (const [name, options] of Object.entries(cases)) {
      const response = await postWebhook(t, options);
      expect({ name, status: response.status, json: response.json }).toEqual({ name, status: 401, json: { error: 'invalid signature' } });
    }
    expect(await snapshot(sender, message.id)).toEqual(before);
    expect(before.message.status).toBe('SENT');
  });

  it('404 for an unknown provider or kind, 405 for a GET', async () => {
    const { sender, message, report } = await sentMessage();
    const before = await snapshot(sender, message.id);
    const body = report('delivered');
    for (const path of ['/webhooks/nope/status', '/webhooks/twilio/status', '/webhooks/simulator/other', '/webhooks/simulator', '/webhooks/']) {
      const response = await postWebhook(t, { path, body, secret });
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
    }
    const get = await fetch(`${t.herald.url}${STATUS_WEBHOOK}`);
    expect(get.status).toBe(405);
    expect(await snapshot(sender, message.id)).toEqual(before);
  });

  it('413 for a body over 1 MiB, declared or streamed, even when correctly signed', async () => {
    const { sender, message } = await sentMessage();
    const before = await snapshot(sender, message.id);
    const big = Buffer.alloc(1024 * 1024 + 1, ' ');
    expect((await postWebhook(t, { body: big, secret })).status).toBe(413);
    expect(await postChunked(STATUS_WEBHOOK, 2 * 1024 * 1024, {})).toBe(413);
    // Exactly 1 MiB is read (and then refused as not a report).
    expect((await postWebhook(t, { body: Buffer.alloc(1024 * 1024, ' '), secret })).status).toBe(400);
    expect(await snapshot(sender, message.id)).toEqual(before);
  });

  it('400 for a correctly signed body that is not a report', async () => {
    const { sender, message, report } = await sentMessage();
    const before = await snapshot(sender, message.id);
    const bodies = [
      '{"reference": ',
      '',
      'null',
      '[]',
      JSON.stringify({ reference: rawId(message.id), status: 'delivered' }),
      report('teleported'),
      report('delivered', { timestamp: 'yesterday' }),
      `[${report('delivered')}, ${report('bogus')}]`,
    ];
    for (const body of bodies) {
      const response = await postWebhook(t, { body, secret });
      expect({ body, status: response.status, json: response.json }).toEqual({ body, status: 400, json: { error: 'malformed report' } });
    }
    expect(await snapshot(sender, message.id)).toEqual(before);
  });
});

describe('accepted reports', () => {
  it('applies a signed report once; the same request again (a replay inside the window) is recorded with applied=false', async () => {
    const { sender, message, report } = await sentMessage();
    const body = report('delivered');
    const signedAt = new Date();
    const first = await postWebhook(t, { body, secret, signedAt });
    expect(first).toEqual({ status: 200, json: { received: 1, deferred: 0, unknown: 0 } });
    const delivered = (await getMessage(sender, message.id))!;
    expect(delivered.status).toBe('DELIVERED');
    const second = await postWebhook(t, { body, secret, signedAt });
    expect(second).toEqual({ status: 200, json: { received: 1, deferred: 0, unknown: 0 } });
    const after = (await getMessage(sender, message.id))!;
    expect(after).toMatchObject({ status: 'DELIVERED', deliveredAt: delivered.deliveredAt });
    expect(after.events.filter((e) => e.source === 'PROVIDER').map((e) => [e.status, e.rawStatus, e.applied])).toEqual([
      ['DELIVERED', 'delivered', true],
      ['DELIVERED', 'delivered', false],
    ]);
  });

  it('applies a batch of reports about several messages in one call', async () => {
    const a = await sentMessage();
    const b = await sentMessage();
    const body = `[${a.report('delivered')}, ${b.report('undelivered', { errorCode: 'UNDELIVERABLE' })}]`;
    expect(await postWebhook(t, { body, secret })).toEqual({ status: 200, json: { received: 2, deferred: 0, unknown: 0 } });
    expect((await getMessage(a.sender, a.message.id))!.status).toBe('DELIVERED');
    expect(await getMessage(b.sender, b.message.id)).toMatchObject({ status: 'UNDELIVERED', errorCode: 'UNDELIVERABLE' });
  });

  it('keeps a report about a provider id no message has yet (deferred=1) and applies it once a message has that id', async () => {
    const { sender, message } = await sentMessage();
    const providerMessageId = `sim_later_${randomUUID().replaceAll('-', '')}`;
    // The reference is no message of ours; only the provider's id can correlate it, later.
    const body = reportBody({ reference: randomUUID(), providerMessageId, status: 'delivered' });
    const pendingBefore = await t.database.prisma.pendingStatusReport.count({ where: { providerMessageId } });
    expect(pendingBefore).toBe(0);
    expect(await postWebhook(t, { body, secret })).toEqual({ status: 200, json: { received: 1, deferred: 1, unknown: 0 } });
    expect(await t.database.prisma.pendingStatusReport.count({ where: { providerMessageId } })).toBe(1);
    expect((await getMessage(sender, message.id))!.status).toBe('SENT');

    // The provider's id becomes known for a message (as when the dispatcher records a submission).
    await t.database.prisma.message.update({ where: { id: rawId(message.id) }, data: { provider: 'simulator', providerMessageId } });
    const changes = await sweepPendingReports(store);
    expect(changes).toContainEqual(expect.objectContaining({ id: rawId(message.id), status: 'DELIVERED' }));
    const after = (await getMessage(sender, message.id))!;
    expect(after).toMatchObject({ status: 'DELIVERED', providerMessageId });
    expect(after.events.filter((e) => e.source === 'PROVIDER' && e.applied).map((e) => e.status)).toEqual(['DELIVERED']);
    expect(await t.database.prisma.pendingStatusReport.count({ where: { providerMessageId } })).toBe(0);
    // Applying again finds nothing left to apply.
    expect(await applyPendingReports(store, 'simulator', providerMessageId, rawId(message.id))).toEqual([]);
  });

  it('applies pending reports in arrival order when the submission is recorded', async () => {
    const { sender, message } = await sentMessage();
    const providerMessageId = `sim_later_${randomUUID().replaceAll('-', '')}`;
    const reference = randomUUID();
    for (const status of ['undelivered', 'delivered']) {
      const body = reportBody({ reference, providerMessageId, status, ...(status === 'undelivered' ? { errorCode: 'UNDELIVERABLE' } : {}) });
      expect((await postWebhook(t, { body, secret })).json).toMatchObject({ deferred: 1 });
    }
    await t.database.prisma.message.update({ where: { id: rawId(message.id) }, data: { providerMessageId } });
    const changes = await applyPendingReports(store, 'simulator', providerMessageId, rawId(message.id));
    expect(changes.map((c) => c.status)).toEqual(['UNDELIVERED']);
    const after = (await getMessage(sender, message.id))!;
    // The first final report wins; the later one is recorded, not applied.
    expect(after).toMatchObject({ status: 'UNDELIVERED', errorCode: 'UNDELIVERABLE' });
    expect(after.events.filter((e) => e.source === 'PROVIDER').map((e) => [e.status, e.applied])).toEqual([
      ['UNDELIVERED', true],
      ['DELIVERED', false],
    ]);
  });

  it('applies a pending report once when two appliers race (submission recorded while a sweep runs)', async () => {
    const { sender, message } = await sentMessage();
    const providerMessageId = `sim_later_${randomUUID().replaceAll('-', '')}`;
    const body = reportBody({ reference: randomUUID(), providerMessageId, status: 'delivered' });
    expect((await postWebhook(t, { body, secret })).json).toMatchObject({ deferred: 1 });
    await t.database.prisma.message.update({ where: { id: rawId(message.id) }, data: { providerMessageId } });
    const results = await Promise.all([
      applyPendingReports(store, 'simulator', providerMessageId, rawId(message.id)),
      sweepPendingReports(store),
      applyPendingReports(store, 'simulator', providerMessageId, rawId(message.id)),
    ]);
    expect(results.flat().filter((c) => c.id === rawId(message.id)).map((c) => c.status)).toEqual(['DELIVERED']);
    const after = (await getMessage(sender, message.id))!;
    expect(after.status).toBe('DELIVERED');
    expect(after.events.filter((e) => e.source === 'PROVIDER').map((e) => [e.status, e.applied])).toEqual([['DELIVERED', true]]);
  });
});

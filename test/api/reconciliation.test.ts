// Reconciliation: overdue SENT messages are polled at the provider; at the delivery-report
// deadline they become EXPIRED (synthetic), which a later real report may still correct.
import { afterEach, describe, expect, it } from 'vitest';
import { SYNTHETIC_EXPIRY } from '../../src/dispatch/reconciler.js';
import { getMessage, postWebhook, rawId, reportBody, send, simulatorSecret, startDeliveryHerald, waitForStatus } from '../support/delivery.js';
import { expectNoErrors, type TestHerald } from '../support/herald.js';

const HOUR = 3_600_000;
let t: TestHerald | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

describe('reconciliation', () => {
  it('asks the provider about SENT messages whose report is overdue and applies its answer', async () => {
    // The simulator's push is an hour away: only polling can learn the outcome.
    t = await startDeliveryHerald({ simulatorDelayMs: HOUR, reconcile: { afterMs: 300, deadlineMs: HOUR, intervalMs: 100 } });
    const { sender } = await t.seedAccount();
    const delivered = await send(sender, { to: '+14155550100' });
    const undelivered = await send(sender, { to: '+14155550000' });
    await waitForStatus(sender, delivered.id, 'SENT');

    const done = await waitForStatus(sender, delivered.id, 'DELIVERED', 20_000);
    expect(done.events.at(-1)).toMatchObject({ status: 'DELIVERED', source: 'PROVIDER', provider: 'simulator', rawStatus: 'delivered', applied: true });
    const failed = await waitForStatus(sender, undelivered.id, 'UNDELIVERED', 20_000);
    expect(failed.errorCode).not.toBeNull();
    const row = await t.database.prisma.message.findUniqueOrThrow({ where: { id: rawId(delivered.id) } });
    expect(row.reconciledAt).not.toBeNull();
    expect(row.statusSynthetic).toBe(false);
  });

  it('makes a message with no report by the deadline EXPIRED, marked synthetic, and lets a real report correct it', async () => {
    t = await startDeliveryHerald({ simulatorDelayMs: HOUR, reconcile: { afterMs: HOUR, deadlineMs: 400, intervalMs: 100 } });
    const { sender } = await t.seedAccount();
    const sent = await send(sender, { to: '+14155550100' });
    const expired = await waitForStatus(sender, sent.id, 'EXPIRED', 10_000);
    expect(expired.events.at(-1)).toMatchObject({ status: 'EXPIRED', source: 'DISPATCHER', rawStatus: SYNTHETIC_EXPIRY, applied: true });
    const synthetic = expectNoErrors(await sender(`query($id: ID!) { message(id: $id) { statusSynthetic errorCode } }`, { id: sent.id })).message;
    expect(synthetic).toEqual({ statusSynthetic: true, errorCode: 'EXPIRED' });

    // The carrier's real answer arrives days late: it wins over Herald's inference.
    const body = reportBody({ reference: rawId(sent.id), providerMessageId: expired.providerMessageId!, status: 'delivered' });
    expect((await postWebhook(t, { body, secret: await simulatorSecret(t) })).status).toBe(200);
    const corrected = await waitForStatus(sender, sent.id, 'DELIVERED');
    expect(corrected).toMatchObject({ errorCode: null, deliveredAt: expect.any(String) });
    expect(expectNoErrors(await sender(`query($id: ID!) { message(id: $id) { statusSynthetic } }`, { id: sent.id })).message.statusSynthetic).toBe(false);

    // A real final status is final: a second, conflicting report moves nothing.
    const late = reportBody({ reference: rawId(sent.id), providerMessageId: expired.providerMessageId!, status: 'undelivered', errorCode: 'UNDELIVERABLE' });
    await postWebhook(t, { body: late, secret: await simulatorSecret(t) });
    const after = await getMessage(sender, sent.id);
    expect(after?.status).toBe('DELIVERED');
    expect(after?.events.at(-1)).toMatchObject({ status: 'UNDELIVERED', applied: false });
  });

  it('never expires a message that has its final report, nor one still waiting within the deadline', async () => {
    t = await startDeliveryHerald({ reconcile: { afterMs: HOUR, deadlineMs: HOUR, intervalMs: 100 } });
    const { sender } = await t.seedAccount();
    const sent = await send(sender, { to: '+14155550100' });
    await waitForStatus(sender, sent.id, 'DELIVERED');
    expect(await t.herald.reconciler!.runOnce()).toEqual({ polled: 0, updated: 0, expired: 0 });
    expect((await getMessage(sender, sent.id))?.status).toBe('DELIVERED');
  });
});

// SMPP end to end: Herald bound to a fake SMSC (the `smpp` package's server). Messages sent
// through GraphQL are submitted over the bind, receipts (deliver_sm) make them DELIVERED, a
// reply becomes an inbound message, and the SMSC dropping every connection mid-run loses
// nothing: the adapter reconnects, the dispatcher retries, every message ends DELIVERED.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { send, startDeliveryHerald, waitFor, waitForStatus } from '../support/delivery.js';
import { expectNoErrors, type TestHerald } from '../support/herald.js';
import { startSmscFake, type SmscFake } from '../fakes/smsc.js';
import { addIdentity, inboundMessages } from './inbound-support.js';

let t: TestHerald;
let smsc: SmscFake;

beforeEach(async () => {
  smsc = await startSmscFake();
  t = await startDeliveryHerald({
    providers: ['smpp'],
    smpp: { url: smsc.url, sourceAddr: 'HERALD', window: 10, enquireLinkMs: 30_000 },
    providerTimeoutMs: 1_000,
    routes: JSON.stringify({ circuit: { failureThreshold: 5, openMs: 1_000 } }),
    dispatcher: { batchSize: 50, maxAttempts: 20, retryBaseMs: 50, retryMaxMs: 500, leaseMs: 10_000, pollMs: 50 },
  });
});
afterEach(async () => {
  await t.stop();
  await smsc.close();
});

describe('SMPP through Herald', () => {
  it('submits over the bind, including a long UCS-2 message in parts, and applies the receipts', async () => {
    const { sender } = await t.seedAccount();
    const long = '您好，这是一条很长的消息，'.repeat(8); // 104 UCS-2 characters: 2 parts
    const [short, multi, undelivered] = await Promise.all([
      send(sender, { to: '+14155550123', body: 'Your parcel arrives today' }),
      send(sender, { to: '+14155550124', body: long }),
      send(sender, { to: '+14155550000', body: 'to a switched-off phone' }),
    ]);
    expect((await waitForStatus(sender, short.id, 'DELIVERED', 10_000)).events.at(-1)).toMatchObject({ source: 'PROVIDER', provider: 'smpp', rawStatus: 'DELIVRD' });
    expect((await waitForStatus(sender, multi.id, 'DELIVERED', 10_000)).provider).toBe('smpp');
    expect((await waitForStatus(sender, undelivered.id, 'UNDELIVERED', 10_000)).events.at(-1)).toMatchObject({ rawStatus: 'UNDELIV' });

    const whole = smsc.messages.find((m) => m.text === long);
    expect(whole?.messageIds).toHaveLength(2);
    expect(whole?.dataCoding).toBe(8);
    expect(smsc.messages.find((m) => m.text === 'Your parcel arrives today')).toMatchObject({ destinationAddr: '14155550123', sourceAddr: 'HERALD' });
  });

  it('turns a deliver_sm reply into an inbound message for the account owning the number', async () => {
    const account = await t.seedAccount();
    await addIdentity(account.admin, '+14155550999', { provider: 'smpp' });
    await smsc.sendInbound({ from: '+14155550555', to: '14155550999', text: 'Yes please' });
    const [reply] = await waitFor(async () => {
      const list = await inboundMessages(account.sender);
      return list.length ? list : undefined;
    });
    expect(reply).toMatchObject({ from: '+14155550555', body: 'Yes please', provider: 'smpp' });
  });

  it('loses nothing when the SMSC drops every connection mid-run', { timeout: 60_000 }, async () => {
    const { sender } = await t.seedAccount();
    smsc.setMode({ dropAfterSubmits: 40 });
    const messages = await Promise.all(Array.from({ length: 120 }, (_, i) => send(sender, { to: `+1415556${String(1_000 + i)}`, body: `run message ${i}` })));
    await waitFor(
      async () => {
        const rows = await t.database.prisma.message.groupBy({ by: ['status'], _count: true, where: { body: { startsWith: 'run message' } } });
        return rows.length === 1 && rows[0]!.status === 'DELIVERED' && rows[0]!._count === 120;
      },
      { timeoutMs: 40_000, intervalMs: 500, what: 'all 120 DELIVERED' },
    );

    // Every message reached the SMSC; a second copy only where the first answer was lost
    // with the connection (the dispatcher cannot ask an SMSC whether it has a message).
    const copies = new Map<string, number>();
    for (const m of smsc.messages) copies.set(m.text, (copies.get(m.text) ?? 0) + 1);
    for (let i = 0; i < 120; i++) expect(copies.get(`run message ${i}`), `run message ${i}`).toBeGreaterThanOrEqual(1);
    const duplicates = [...copies.values()].filter((n) => n > 1).length;
    console.log(`[measure] SMPP link dropped at submit 40 of 120: 120 DELIVERED, ${duplicates} sent twice, ${smsc.binds.length} binds`);
    expect(duplicates).toBeLessThanOrEqual(10); // the submits in flight (window 10) when the link dropped
    expect(smsc.binds.length).toBeGreaterThanOrEqual(2); // it reconnected by itself
    const { providers } = expectNoErrors(await sender(`{ providers { name state } }`));
    expect(providers).toEqual([{ name: 'smpp', state: 'UP' }]);
  });
});

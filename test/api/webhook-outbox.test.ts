// The transactional outbox of outgoing webhooks (outgoing-webhooks/relay.ts): deliveries come
// from committed rows only, whoever wrote them and whether or not that process lived to publish.
// The relay is driven by hand here (the webhook worker runs it in every pass); its own timing
// is covered end to end in outgoing-webhooks.test.ts and the outbox chaos scenario.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { relayOnce } from '../../src/outgoing-webhooks/relay.js';
import { createOutboxRelayStore } from '../../src/store/outbox-relay.js';
import { createFreshDatabase } from '../support/services.js';
import { expectNoErrors, startTestHerald, testDatabaseKind, type SeededAccount, type TestHerald } from '../support/herald.js';

let t: TestHerald;
let account: SeededAccount;
let endpointId: string;
let dropDatabase: (() => Promise<void>) | undefined;
const relay = () => relayOnce(createOutboxRelayStore(t.database.prisma));

beforeAll(async () => {
  // Nothing dispatches (statuses change by hand), on a database of its own on PostgreSQL so no
  // other file's rows are relayed here.
  const own = testDatabaseKind() === 'postgres' ? await createFreshDatabase('outbox') : undefined;
  dropDatabase = own?.drop;
  t = await startTestHerald(
    { outgoingWebhooks: { retrySchedule: [60_000], pollMs: 60_000, timeoutMs: 5_000, batchSize: 50, disableAfterFailures: 20, disableAfterMs: 3_600_000, allowPrivateUrls: true } },
    { databaseUrl: own?.url },
  );
  account = await t.seedAccount();
  const created = expectNoErrors(
    await account.admin(`mutation { createWebhookEndpoint(input: { url: "http://127.0.0.1:9/hook", eventTypes: [MESSAGE_STATUS_CHANGED, MESSAGE_DELIVERED] }) { __typename } }`),
  );
  endpointId = (await t.database.prisma.webhookEndpoint.findFirstOrThrow({ where: { accountId: account.accountId } })).id;
  expect(created.createWebhookEndpoint.__typename).toBe('CreateWebhookEndpointSuccess');
  await relay(); // whatever came before this test
});

afterAll(async () => {
  await t?.stop();
  await dropDatabase?.();
});

async function deliveries() {
  return t.database.prisma.webhookDelivery.findMany({ where: { endpointId }, orderBy: { createdAt: 'asc' }, select: { eventId: true, eventType: true, payload: true } });
}

async function newMessage(): Promise<string> {
  const sent = expectNoErrors(await account.admin(`mutation { sendMessage(input: { to: "+14155550123", body: "outbox" }) { ... on SendMessageSuccess { data { id messageId: id } } } }`));
  const row = await t.database.prisma.message.findFirstOrThrow({ where: { accountId: account.accountId }, orderBy: { createdAt: 'desc' }, select: { id: true } });
  expect(sent.sendMessage.data.id).toBeTruthy();
  return row.id;
}

/** A status change as a dying process would leave it: committed, never published. */
async function commitStatusChange(messageId: string, status: 'SENT' | 'DELIVERED') {
  await t.database.prisma.$transaction([
    t.database.prisma.message.update({ where: { id: messageId }, data: { status } }),
    t.database.prisma.messageEvent.create({ data: { messageId, status, source: 'PROVIDER', provider: 'simulator' } }),
  ]);
}

describe('the webhook outbox', () => {
  it('turns every committed status change into deliveries once, with a stable webhook-id, published or not', async () => {
    const before = (await deliveries()).length;
    const id = await newMessage();
    await commitStatusChange(id, 'SENT');
    await commitStatusChange(id, 'DELIVERED');
    await relay();
    await relay(); // a second pass finds nothing new
    const rows = (await deliveries()).slice(before);
    const statuses = rows.map((r) => [r.eventType, JSON.parse(r.payload).data.status]);
    expect(statuses).toEqual([
      ['message.status_changed', 'QUEUED'],
      ['message.status_changed', 'SENT'],
      ['message.status_changed', 'DELIVERED'],
      ['message.delivered', 'DELIVERED'],
    ]);
    expect(new Set(rows.map((r) => r.eventId)).size).toBe(4);
    const delivered = rows.find((r) => r.eventType === 'message.delivered')!;
    expect(delivered.eventId).toMatch(/^msg_\d+\.delivered$/);
    expect(JSON.parse(delivered.payload).data).toMatchObject({ messageId: id, status: 'DELIVERED', provider: 'simulator', to: '+14155550123' });
  });

  it('writes nothing for a change that rolled back', async () => {
    const id = await newMessage();
    await relay();
    const before = (await deliveries()).length;
    await expect(
      t.database.prisma.$transaction(async (tx) => {
        await tx.messageEvent.create({ data: { messageId: id, status: 'SENT', source: 'PROVIDER' } });
        throw new Error('crash before commit');
      }),
    ).rejects.toThrow('crash before commit');
    await relay();
    expect((await deliveries()).length).toBe(before);
  });

  it('does not send events from before an endpoint existed to it', async () => {
    const id = await newMessage();
    await new Promise((r) => setTimeout(r, 20));
    const later = await t.database.prisma.webhookEndpoint.create({
      data: { accountId: account.accountId, url: 'http://127.0.0.1:9/later', eventTypes: ['message.status_changed'], secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' } as never,
    });
    await relay();
    expect(await t.database.prisma.webhookDelivery.count({ where: { endpointId: later.id } })).toBe(0);
    await commitStatusChange(id, 'SENT');
    await relay();
    expect(await t.database.prisma.webhookDelivery.count({ where: { endpointId: later.id } })).toBe(1);
    await t.database.prisma.webhookEndpoint.delete({ where: { id: later.id } });
  });

  it.skipIf(testDatabaseKind() === 'pglite')('waits for a slower transaction that started first, then relays both, each once (PostgreSQL)', async () => {
    const [slow, fast] = [await newMessage(), await newMessage()];
    await relay();
    const before = (await deliveries()).length;
    let commitSlow!: () => void;
    const slowMayCommit = new Promise<void>((resolve) => (commitSlow = resolve));
    let slowWrote!: () => void;
    const slowHasWritten = new Promise<void>((resolve) => (slowWrote = resolve));
    // The slow transaction takes its id first (it writes first), then waits.
    const slowTx = t.database.prisma.$transaction(
      async (tx) => {
        await tx.messageEvent.create({ data: { messageId: slow, status: 'SENT', source: 'PROVIDER' } });
        slowWrote();
        await slowMayCommit;
      },
      { timeout: 30_000 },
    );
    await slowHasWritten;
    await commitStatusChange(fast, 'SENT'); // a later transaction id, committed first
    await Promise.all([relay(), relay()]); // two relays at once: one holds the cursor
    expect((await deliveries()).length).toBe(before); // the frontier is the slow one: nothing yet
    commitSlow();
    await slowTx;
    await Promise.all([relay(), relay()]);
    await relay();
    const rows = (await deliveries()).slice(before).map((r) => JSON.parse(r.payload).data);
    expect(rows.map((d) => [d.messageId, d.status]).sort()).toEqual([[fast, 'SENT'], [slow, 'SENT']].sort());
  });

  it.skipIf(testDatabaseKind() === 'pglite')('is not held by a long transaction in another database of the server (PostgreSQL)', async () => {
    const other = new pg.Client({ connectionString: inject('postgresUrl') }); // the run's database, not this file's
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT pg_current_xact_id()'); // takes a transaction id, as a write would
      const id = await newMessage();
      await relay();
      const before = (await deliveries()).length;
      await commitStatusChange(id, 'SENT');
      await relay();
      expect((await deliveries()).length).toBe(before + 1);
    } finally {
      await other.query('ROLLBACK').catch(() => undefined);
      await other.end();
    }
  });
});

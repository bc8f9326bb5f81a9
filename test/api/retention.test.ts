// Retention: the policy through GraphQL (typed errors, nothing half-applied, ADMIN only) and a
// pass over old data: bodies blanked with the metadata kept, whole days of records deleted once
// their stats are rolled up (messageStats unchanged), verifications, sealed codes and webhook logs
// gone, newer rows untouched, and a day whose stats are not rolled up yet left alone.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runRetentionPass } from '../../src/services/retention.js';
import { createRollupPass } from '../../src/services/message-stats-rollup.js';
import { createMessageStatsRollup } from '../../src/store/message-stats-rollup.js';
import { createRetentionStore } from '../../src/store/retention.js';
import { createOwnDatabase, expectNoErrors, startTestHerald, testDatabaseKind, type SeededAccount, type TestHerald } from '../support/herald.js';

let t: TestHerald;
let own: { url: string; drop(): Promise<void> } | undefined;
beforeAll(async () => {
  own = testDatabaseKind() === 'postgres' ? await createOwnDatabase(inject('postgresUrl')) : undefined;
  t = await startTestHerald({}, { databaseUrl: own?.url });
});
afterAll(async () => {
  await t?.stop();
  await own?.drop();
});

const POLICY = 'bodyDays recordDays verificationDays webhookLogDays isDefault';
const SET = `mutation($input: RetentionPolicyInput!) { setRetentionPolicy(input: $input) { __typename
  ... on SetRetentionPolicySuccess { data { ${POLICY} } } ... on ValidationError { code issues { path message } } ... on Error { code message } } }`;

describe('the retention policy', () => {
  it('has documented defaults, changes field by field, and refuses bad periods naming the field, changing nothing', async () => {
    const account = await t.seedAccount();
    expect(expectNoErrors(await account.admin(`{ retentionPolicy { ${POLICY} } }`)).retentionPolicy).toEqual({ bodyDays: 90, recordDays: 395, verificationDays: 30, webhookLogDays: 30, isDefault: true });
    const set = expectNoErrors(await account.admin(SET, { input: { bodyDays: 30, webhookLogDays: 7 } })).setRetentionPolicy;
    expect(set).toEqual({ __typename: 'SetRetentionPolicySuccess', data: { bodyDays: 30, recordDays: 395, verificationDays: 30, webhookLogDays: 7, isDefault: false } });

    for (const [input, path] of [
      [{ bodyDays: 0 }, 'input.bodyDays'],
      [{ recordDays: -5 }, 'input.recordDays'],
      [{ verificationDays: 4000 }, 'input.verificationDays'],
      [{ recordDays: 10 }, 'input.bodyDays'], // bodies (30) kept longer than records
      [{ webhookLogDays: 60 }, 'input.webhookLogDays'], // payloads kept longer than bodies (30)
      [{ bodyDays: null }, 'input.bodyDays'], // bodies for ever, records deleted: never blanked
    ] as const) {
      const refused = expectNoErrors(await account.admin(SET, { input })).setRetentionPolicy;
      expect(refused, JSON.stringify(input)).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED' });
      expect(refused.issues.map((i: { path: string[] }) => i.path.join('.'))).toEqual([path]);
    }
    // A fractional number is refused by GraphQL itself (Int).
    expect((await account.admin(SET, { input: { bodyDays: 1.5 } })).errors?.[0]?.message).toMatch(/Int/);
    expect(expectNoErrors(await account.admin(`{ retentionPolicy { ${POLICY} } }`)).retentionPolicy).toEqual(set.data);
    // The change is in the audit log, with what it replaced; the refusals are not.
    const audit = expectNoErrors(await account.admin(`{ auditLog(first: 10, filter: { action: "retention.set" }) { edges { node { action before after } } } }`)).auditLog.edges;
    expect(audit.map((e: { node: unknown }) => e.node)).toEqual([
      { action: 'retention.set', before: { bodyDays: 90, recordDays: 395, verificationDays: 30, webhookLogDays: 30 }, after: { bodyDays: 30, recordDays: 395, verificationDays: 30, webhookLogDays: 7 } },
    ]);
    // null keeps for ever, everything together.
    const forever = expectNoErrors(await account.admin(SET, { input: { bodyDays: null, recordDays: null, webhookLogDays: null, verificationDays: null } })).setRetentionPolicy;
    expect(forever.data).toMatchObject({ bodyDays: null, recordDays: null, webhookLogDays: null, verificationDays: null });
  });

  it('is ADMIN only', async () => {
    const account = await t.seedAccount();
    expect(expectNoErrors(await account.sender(SET, { input: { bodyDays: 5 } })).setRetentionPolicy).toMatchObject({ code: 'FORBIDDEN' });
    expect((await account.sender(`{ retentionPolicy { bodyDays } }`)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('a retention pass', () => {
  const DAY = 86_400_000;
  const today = Math.floor(Date.now() / DAY) * DAY;
  const at = (daysAgo: number, hour = 12) => new Date(today - daysAgo * DAY + hour * 3_600_000);

  async function seedOld(account: SeededAccount) {
    const prisma = t.database.prisma;
    const make = (daysAgo: number, i: number) =>
      prisma.message.create({
        data: {
          accountId: account.accountId, to: `+1415555${String(1000 + daysAgo * 10 + i)}`, body: `body ${daysAgo}/${i}`, variables: { name: 'x' },
          status: 'DELIVERED', segments: 1, encoding: 'GSM7', createdAt: at(daysAgo), deliveredAt: at(daysAgo, 13), updatedAt: at(daysAgo, 13),
          sealedBody: Buffer.from('sealed'),
        } as never,
      });
    const messages = { d50: [await make(50, 0), await make(50, 1)], d20: [await make(20, 0)], d2: [await make(2, 0)] };
    const inbound = (daysAgo: number) =>
      prisma.inboundMessage.create({ data: { accountId: account.accountId, from: '+14155550999', to: '+14155550150', body: `reply ${daysAgo}`, provider: 'simulator', providerMessageId: `r-${account.accountId}-${daysAgo}`, receivedAt: at(daysAgo), createdAt: at(daysAgo) } });
    const replies = { d50: await inbound(50), d20: await inbound(20), d2: await inbound(2) };
    const verification = (daysAgo: number) =>
      prisma.verification.create({ data: { accountId: account.accountId, to: '+14155550999', codeHash: Buffer.from('h'), codeLength: 6, status: 'APPROVED', maxAttempts: 5, expiresAt: at(daysAgo, 14), createdAt: at(daysAgo) } as never });
    const verifications = { d20: await verification(20), d2: await verification(2) };
    const endpoint = await prisma.webhookEndpoint.create({ data: { accountId: account.accountId, url: 'https://example.com/h', eventTypes: ['message.status_changed'], secret: 'whsec_x' } as never });
    const delivery = (daysAgo: number, status: string) =>
      prisma.webhookDelivery.create({ data: { endpointId: endpoint.id, eventId: `e-${daysAgo}-${status}`, eventType: 'message.status_changed', payload: '{}', status, createdAt: at(daysAgo) } });
    const deliveries = { d20: await delivery(20, 'SUCCEEDED'), d20pending: await delivery(20, 'PENDING'), d2: await delivery(2, 'FAILED') };
    return { messages, replies, verifications, deliveries };
  }

  const STATS = `query($from: DateTime!, $to: DateTime!) { messageStats(from: $from, to: $to, groupBy: DAY) { totals { total delivered } groups { key total } } }`;

  it('blanks bodies, deletes rolled-up days of records, verifications and webhook logs past their periods, and keeps messageStats', async () => {
    const account = await t.seedAccount();
    const seeded = await seedOld(account);
    await t.database.prisma.retentionPolicy.create({ data: { accountId: account.accountId, bodyDays: 10, recordDays: 30, verificationDays: 10, webhookLogDays: 10 } });
    const store = createRetentionStore(t.database.prisma);
    const range = { from: at(60).toISOString(), to: new Date().toISOString() };

    // Before the rollup: bodies go, and the old reply (replies are not in messageStats), but no
    // day of messages is deleted (its stats would be lost).
    expect((await runRetentionPass(store, new Date(), 1)).done).toMatchObject({ records: 1 });
    expect(await t.database.prisma.message.count({ where: { accountId: account.accountId } })).toBe(4);
    const statsBefore = expectNoErrors(await account.admin(STATS, range)).messageStats;
    expect(statsBefore.totals).toEqual({ total: 4, delivered: 4 });

    const rollup = createMessageStatsRollup(t.database);
    const pass = createRollupPass(rollup);
    for (let i = 0; i < 100 && (await pass()).more; i++);
    const result = await runRetentionPass(store, new Date(), 1); // batches of one: many small statements
    expect(result.done.records).toBe(2); // the 2 messages of day 50

    const messages = await t.database.prisma.message.findMany({ where: { accountId: account.accountId }, orderBy: { createdAt: 'asc' } });
    expect(messages.map((m) => m.id)).toEqual([seeded.messages.d20[0]!.id, seeded.messages.d2[0]!.id]);
    expect(messages[0]).toMatchObject({ body: '', variables: null, sealedBody: null, to: seeded.messages.d20[0]!.to, status: 'DELIVERED' });
    expect(messages[0]!.redactedAt).toBeInstanceOf(Date);
    expect(messages[1]).toMatchObject({ body: 'body 2/0', redactedAt: null });
    expect(Buffer.from(messages[1]!.sealedBody!).toString()).toBe('sealed');
    const replies = await t.database.prisma.inboundMessage.findMany({ where: { accountId: account.accountId }, orderBy: { createdAt: 'asc' } });
    expect(replies.map((r) => [r.id, r.body])).toEqual([[seeded.replies.d20.id, ''], [seeded.replies.d2.id, 'reply 2']]);
    expect((await t.database.prisma.verification.findMany({ where: { accountId: account.accountId } })).map((v) => v.id)).toEqual([seeded.verifications.d2.id]);
    const deliveries = await t.database.prisma.webhookDelivery.findMany({ where: { endpoint: { accountId: account.accountId } } });
    expect(deliveries.map((d) => d.id).sort()).toEqual([seeded.deliveries.d20pending.id, seeded.deliveries.d2.id].sort()); // a PENDING one is still to be sent

    // GraphQL shows the blanked body and when; stats over the purged day are unchanged.
    const shown = expectNoErrors(await account.admin(`{ messages(first: 5) { edges { node { body redactedAt } } } }`)).messages.edges.map((e: { node: unknown }) => e.node);
    expect(shown).toContainEqual({ body: '', redactedAt: expect.any(String) });
    expect(expectNoErrors(await account.admin(STATS, range)).messageStats).toEqual(statsBefore);

    // A second pass finds nothing more.
    const again = await runRetentionPass(store, new Date());
    expect(again.done).toEqual({ bodies: 0, records: 0, verifications: 0, 'webhook-logs': 0 });
  });

  it('goes on from where its last batch stopped: rows with the same time across batches, then a shorter period', async () => {
    const account = await t.seedAccount();
    const prisma = t.database.prisma;
    const make = (daysAgo: number, i: number) =>
      prisma.message.create({
        data: { accountId: account.accountId, to: `+1415556${String(1000 + daysAgo * 10 + i)}`, body: `b ${daysAgo}/${i}`, status: 'DELIVERED', segments: 1, encoding: 'GSM7', createdAt: at(daysAgo), updatedAt: at(daysAgo) } as never,
      });
    // Five messages created at the same instant: batches of two end inside the tie.
    for (let i = 0; i < 5; i++) await make(50, i);
    await make(20, 0);
    await prisma.retentionPolicy.create({ data: { accountId: account.accountId, bodyDays: 30, recordDays: 400, verificationDays: 30, webhookLogDays: 30 } });
    const store = createRetentionStore(prisma);
    expect((await runRetentionPass(store, new Date(), 2)).done.bodies).toBe(5);
    const bodies = async () => (await prisma.message.findMany({ where: { accountId: account.accountId }, orderBy: { createdAt: 'asc' } })).map((m) => m.body);
    expect(await bodies()).toEqual(['', '', '', '', '', 'b 20/0']);
    // A shorter period reaches rows newer than where the scan stopped.
    await prisma.retentionPolicy.update({ where: { accountId: account.accountId }, data: { bodyDays: 10, verificationDays: 10, webhookLogDays: 10 } });
    expect((await runRetentionPass(store, new Date(), 2)).done.bodies).toBe(1);
    expect(await bodies()).toEqual(['', '', '', '', '', '']);
  });

  it('leaves other accounts and accounts keeping data for ever alone', async () => {
    const keeper = await t.seedAccount();
    await seedOld(keeper);
    await t.database.prisma.retentionPolicy.create({ data: { accountId: keeper.accountId, bodyDays: null, recordDays: null, verificationDays: null, webhookLogDays: null } });
    await runRetentionPass(createRetentionStore(t.database.prisma), new Date());
    const messages = await t.database.prisma.message.findMany({ where: { accountId: keeper.accountId } });
    expect(messages).toHaveLength(4);
    expect(messages.every((m) => m.body.startsWith('body ') && m.redactedAt === null)).toBe(true);
    expect(await t.database.prisma.verification.count({ where: { accountId: keeper.accountId } })).toBe(2);
  });
});

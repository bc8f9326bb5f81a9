import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoErrors, startTestHerald, type SeededAccount, type TestHerald } from '../support/herald.js';

let t: TestHerald;
beforeAll(async () => {
  t = await startTestHerald();
});
afterAll(() => t?.stop());

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { ... on SendMessageSuccess { data { id } } ... on Error { code message } } }`;

async function send(account: SeededAccount, input: Record<string, unknown>): Promise<string> {
  const data = expectNoErrors(await account.sender(SEND, { input }));
  if (!data.sendMessage.data) throw new Error(JSON.stringify(data));
  return data.sendMessage.data.id;
}

const PAGE = `query($first: Int, $after: String, $last: Int, $before: String, $filter: MessageFilter) {
  messages(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    edges { cursor node { id body to status } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

describe('message history', () => {
  it('lists messages newest first and pages forwards and backwards with cursors', async () => {
    const account = await t.seedAccount();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await send(account, { to: '+14155550100', body: `m${i}` }));

    const page1 = expectNoErrors(await account.sender(PAGE, { first: 2 })).messages;
    expect(page1.edges.map((e: any) => e.node.body)).toEqual(['m4', 'm3']);
    expect(page1.pageInfo.hasNextPage).toBe(true);

    const page2 = expectNoErrors(await account.sender(PAGE, { first: 2, after: page1.pageInfo.endCursor })).messages;
    expect(page2.edges.map((e: any) => e.node.body)).toEqual(['m2', 'm1']);

    const back = expectNoErrors(await account.sender(PAGE, { last: 2, before: page2.pageInfo.startCursor })).messages;
    expect(back.edges.map((e: any) => e.node.body)).toEqual(['m4', 'm3']);
  });

  it('filters by status, recipient in any format, creation range and body text', async () => {
    const account = await t.seedAccount();
    await send(account, { to: '+14155550100', body: 'Your code is 1234' });
    await send(account, { to: '+8613800138000', body: 'Parcel shipped' });
    await send(account, { to: '+14155550100', body: 'later', scheduledAt: new Date(Date.now() + 3600_000).toISOString() });

    const bodies = async (filter: Record<string, unknown>) =>
      expectNoErrors(await account.sender(PAGE, { first: 10, filter })).messages.edges.map((e: any) => e.node.body).sort();

    expect(await bodies({ status: ['SCHEDULED'] })).toEqual(['later']);
    expect(await bodies({ status: ['QUEUED', 'SCHEDULED'] })).toHaveLength(3);
    expect(await bodies({ to: '+86 138 0013 8000' })).toEqual(['Parcel shipped']);
    expect(await bodies({ search: 'CODE' })).toEqual(['Your code is 1234']);
    expect(await bodies({ createdAfter: new Date(Date.now() + 60_000).toISOString() })).toEqual([]);
    expect(await bodies({ createdBefore: new Date(Date.now() + 60_000).toISOString() })).toHaveLength(3);

    // By the provider that took it (no dispatcher runs here: two are marked as taken).
    await t.database.prisma.message.updateMany({ where: { accountId: account.accountId, body: 'Parcel shipped' }, data: { provider: 'aliyun' } });
    await t.database.prisma.message.updateMany({ where: { accountId: account.accountId, body: 'later' }, data: { provider: 'twilio' } });
    expect(await bodies({ provider: 'aliyun' })).toEqual(['Parcel shipped']);
    expect(await bodies({ provider: 'twilio', to: '+14155550100' })).toEqual(['later']);
    expect(await bodies({ provider: 'tencent' })).toEqual([]);
  });

  it('fetches a message by id and by node(id), with its event timeline', async () => {
    const account = await t.seedAccount();
    const id = await send(account, { to: '+14155550100', body: 'find me' });
    const data = expectNoErrors(
      await account.sender(`query($id: ID!) {
        message(id: $id) { id body events { status source } }
        node(id: $id) { id ... on Message { body } }
      }`, { id }),
    );
    expect(data.message).toMatchObject({ id, body: 'find me', events: [{ status: 'QUEUED', source: 'API' }] });
    expect(data.node).toEqual({ id, body: 'find me' });
  });

  it('answers null for an unknown or malformed id rather than an error', async () => {
    const account = await t.seedAccount();
    const data = expectNoErrors(
      await account.sender(`{ a: message(id: "nope") { id } b: message(id: "01a211aa-e67b-778c-b59f-5b55d2e20d22") { id } }`),
    );
    expect(data).toEqual({ a: null, b: null });
  });

  it('loads a page of 50 messages with their events in a constant number of queries', async () => {
    const account = await t.seedAccount();
    await t.database.prisma.message.createMany({
      data: Array.from({ length: 60 }, (_, i) => ({
        accountId: account.accountId,
        to: '+14155550100',
        body: `bulk ${i}`,
        encoding: 'GSM7' as const,
        segments: 1,
        status: 'QUEUED' as const,
      })),
    });
    const rows = await t.database.prisma.message.findMany({ where: { accountId: account.accountId }, select: { id: true } });
    await t.database.prisma.messageEvent.createMany({
      data: rows.flatMap((r) => [
        { messageId: r.id, status: 'QUEUED' as const, source: 'API' },
        { messageId: r.id, status: 'SENDING' as const, source: 'DISPATCHER' },
      ]),
    });

    // Authentication and the account's (cached) policy are not the page: count the page's statements.
    const before = t.queries.length;
    const data = expectNoErrors(
      await account.sender(`{ messages(first: 50) { edges { node { id to body status events { status at source } } } } }`),
    );
    const statements = t.queries.slice(before).filter((sql) => !/"(ApiKey|AccountSettings|SensitiveWordRule)"/.test(sql));
    expect(data.messages.edges).toHaveLength(50);
    expect(data.messages.edges.every((e: any) => e.node.events.length === 2)).toBe(true);
    // One query for the page, one for all its events: not 1 + 50.
    expect(statements.length).toBeLessThanOrEqual(2);
  });
});

describe('tenant isolation', () => {
  it("never shows one account's message to another by id, node(id) or filter", async () => {
    const owner = await t.seedAccount();
    const other = await t.seedAccount();
    const id = await send(owner, { to: '+14155550123', body: 'private', idempotencyKey: 'iso' });

    const byId = expectNoErrors(await other.sender(`query($id: ID!) { message(id: $id) { id } node(id: $id) { id } }`, { id }));
    expect(byId).toEqual({ message: null, node: null });

    const list = expectNoErrors(await other.sender(PAGE, { first: 100, filter: { to: '+14155550123', search: 'private' } }));
    expect(list.messages.edges).toEqual([]);

    // The owner still sees it.
    const mine = expectNoErrors(await owner.sender(`query($id: ID!) { message(id: $id) { id } }`, { id }));
    expect(mine.message.id).toBe(id);
  });
});

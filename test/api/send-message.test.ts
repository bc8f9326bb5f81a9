import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoErrors, startTestHerald, type TestHerald } from '../support/herald.js';

const SEND = /* GraphQL */ `
  mutation Send($input: SendMessageInput!) {
    sendMessage(input: $input) {
      __typename
      ... on SendMessageSuccess { data { id to status segments encoding body scheduledAt idempotencyKey metadata events { status source } } }
      ... on Error { code message }
      ... on ValidationError { issues { path message } }
      ... on InvalidPhoneNumberError { input }
    }
  }
`;

let t: TestHerald;
beforeAll(async () => {
  t = await startTestHerald();
});
afterAll(() => t?.stop());

describe('sendMessage', () => {
  it('accepts a valid number, normalises it to E.164 and queues one GSM-7 segment', async () => {
    const { sender } = await t.seedAccount();
    const data = expectNoErrors(await sender(SEND, { input: { to: '+86 138-0013-8000', body: 'Your parcel is on its way' } }));
    expect(data.sendMessage.__typename).toBe('SendMessageSuccess');
    expect(data.sendMessage.data).toMatchObject({ to: '+8613800138000', status: 'QUEUED', segments: 1, encoding: 'GSM7' });
    expect(data.sendMessage.data.events).toEqual([{ status: 'QUEUED', source: 'API' }]);
  });

  it('counts a 71-character Chinese body as two UCS-2 segments', async () => {
    const { sender } = await t.seedAccount();
    const data = expectNoErrors(await sender(SEND, { input: { to: '+8613800138000', body: '验'.repeat(71) } }));
    expect(data.sendMessage.data).toMatchObject({ encoding: 'UCS2', segments: 2 });
  });

  it('refuses "12345" with InvalidPhoneNumberError naming the input', async () => {
    const { sender } = await t.seedAccount();
    const data = expectNoErrors(await sender(SEND, { input: { to: '12345', body: 'hi' } }));
    expect(data.sendMessage).toMatchObject({ __typename: 'InvalidPhoneNumberError', code: 'INVALID_PHONE_NUMBER', input: '12345' });
  });

  it('reports every malformed field at once as a ValidationError', async () => {
    const { sender } = await t.seedAccount();
    const data = expectNoErrors(
      await sender(SEND, { input: { to: 'nope', body: '   ', idempotencyKey: '', from: 'x'.repeat(30) } }),
    );
    expect(data.sendMessage.__typename).toBe('ValidationError');
    expect(data.sendMessage.code).toBe('VALIDATION_FAILED');
    const paths = data.sendMessage.issues.map((i: { path: string[] }) => i.path.join('.')).sort();
    expect(paths).toEqual(['input.body', 'input.from', 'input.idempotencyKey', 'input.to']);
  });

  it('refuses a body longer than the configured limit and one with neither body nor template', async () => {
    const { sender } = await t.seedAccount();
    const tooLong = expectNoErrors(await sender(SEND, { input: { to: '+14155550100', body: 'a'.repeat(1601) } }));
    expect(tooLong.sendMessage.issues).toEqual([{ path: ['input', 'body'], message: 'must be at most 1600 characters' }]);
    const neither = expectNoErrors(await sender(SEND, { input: { to: '+14155550100' } }));
    expect(neither.sendMessage.issues[0].path).toEqual(['input', 'body']);
  });

  it('stores a future scheduledAt as SCHEDULED with a SCHEDULED first event', async () => {
    const { sender } = await t.seedAccount();
    const at = new Date(Date.now() + 3600_000).toISOString();
    const data = expectNoErrors(await sender(SEND, { input: { to: '+14155550100', body: 'later', scheduledAt: at } }));
    expect(data.sendMessage.data).toMatchObject({ status: 'SCHEDULED', scheduledAt: at, events: [{ status: 'SCHEDULED', source: 'API' }] });
  });

  it('writes the message durably before returning: it is in the database when the mutation answers', async () => {
    const { sender, accountId } = await t.seedAccount();
    const data = expectNoErrors(await sender(SEND, { input: { to: '+14155550100', body: 'durable', metadata: { order: 42 } } }));
    const rows = await t.database.prisma.message.findMany({ where: { accountId }, include: { events: true } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ body: 'durable', status: 'QUEUED', metadata: { order: 42 } });
    expect(rows[0].events).toHaveLength(1);
    expect(data.sendMessage.data.metadata).toEqual({ order: 42 });
  });
});

describe('idempotency', () => {
  it('returns the original message for the same key and input, and writes nothing new', async () => {
    const { sender, accountId } = await t.seedAccount();
    const input = { to: '+14155550100', body: 'once', idempotencyKey: 'order-1' };
    const first = expectNoErrors(await sender(SEND, { input }));
    const second = expectNoErrors(await sender(SEND, { input: { ...input, to: '+1 415 555 0100' } }));
    expect(second.sendMessage.data.id).toBe(first.sendMessage.data.id);
    expect(await t.database.prisma.message.count({ where: { accountId } })).toBe(1);
  });

  it('returns IdempotencyConflictError when the key is reused with a different input', async () => {
    const { sender, accountId } = await t.seedAccount();
    expectNoErrors(await sender(SEND, { input: { to: '+14155550100', body: 'one', idempotencyKey: 'k' } }));
    const data = expectNoErrors(await sender(SEND, { input: { to: '+14155550100', body: 'two', idempotencyKey: 'k' } }));
    expect(data.sendMessage).toMatchObject({ __typename: 'IdempotencyConflictError', code: 'IDEMPOTENCY_CONFLICT' });
    expect(await t.database.prisma.message.count({ where: { accountId } })).toBe(1);
  });

  it('produces exactly one message from 20 concurrent requests with one key', async () => {
    const { sender, accountId } = await t.seedAccount();
    const input = { to: '+14155550100', body: 'race', idempotencyKey: 'race-1' };
    const results = await Promise.all(Array.from({ length: 20 }, () => sender(SEND, { input })));
    const ids = new Set(results.map((r) => expectNoErrors(r).sendMessage.data.id));
    expect(ids.size).toBe(1);
    expect(await t.database.prisma.message.count({ where: { accountId } })).toBe(1);
  });

  it('scopes keys to the account: another account may use the same key', async () => {
    const a = await t.seedAccount();
    const b = await t.seedAccount();
    const input = { to: '+14155550100', body: 'same', idempotencyKey: 'shared' };
    const ra = expectNoErrors(await a.sender(SEND, { input }));
    const rb = expectNoErrors(await b.sender(SEND, { input }));
    expect(ra.sendMessage.data.id).not.toBe(rb.sendMessage.data.id);
  });
});

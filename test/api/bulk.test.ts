import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { analyzeBody } from '../../src/domain/segments.js';
import type { MessageDraft } from '../../src/domain/message-draft.js';
import { createBatches } from '../../src/store/batches.js';
import { expectNoErrors, startTestHerald, type SeededAccount, type TestHerald } from '../support/herald.js';
import { setSettings } from '../support/templates.js';

let t: TestHerald;
beforeAll(async () => {
  t = await startTestHerald();
});
afterAll(() => t?.stop());

const SEND_MANY = /* GraphQL */ `
  mutation($input: SendMessagesInput!) {
    sendMessages(input: $input) {
      __typename
      ... on SendMessagesSuccess {
        batchId
        accepted { id to body status batchId }
        rejected { index to code message }
        data { total acceptedCount rejectedCount statusCounts { status count } }
      }
      ... on Error { code message }
      ... on ValidationError { issues { path message } }
    }
  }
`;

async function approvedTemplate(account: SeededAccount, body: string): Promise<string> {
  const created = expectNoErrors(
    await account.admin(`mutation($body: String!) { createTemplate(input: { name: "bulk-${Date.now()}", body: $body, category: NOTIFICATION }) { ... on CreateTemplateSuccess { data { id } } } }`, { body }),
  ).createTemplate.data.id;
  expectNoErrors(await account.admin(`mutation($id: ID!) { submitTemplate(id: $id) { __typename } }`, { id: created }));
  expectNoErrors(await account.admin(`mutation($id: ID!) { reviewTemplate(id: $id, approve: true) { __typename } }`, { id: created }));
  return created;
}

describe('sendMessages', () => {
  it('accepts 1 500 recipients with deliberately bad rows: every bad row is named by index and code, the rest stored under one batch', async () => {
    const account = await t.seedAccount();
    const templateId = await approvedTemplate(account, 'Hi {{name}}, your order {{order}} has shipped');
    expectNoErrors(await account.sender(`mutation { addOptOut(phone: "+14155550177") { __typename } }`));
    // More than one chunk of the service (1 000): indexes and rows are right across the boundary.
    const recipients = Array.from({ length: 1500 }, (_, i) => ({ to: `+1415555${String(1000 + i).padStart(4, '0')}`, variables: { name: `N${i}`, order: `O-${i}` } }));
    recipients[3] = { to: '12345', variables: { name: 'x', order: 'y' } }; // invalid number
    recipients[10] = { to: '+14155552010', variables: { name: 'x' } } as (typeof recipients)[number]; // missing variable
    recipients[20] = { to: '+14155550177', variables: { name: 'x', order: 'y' } }; // opted out
    recipients[30] = { to: '+14155552030', variables: { name: 'x', order: 'y', extra: 1 } } as (typeof recipients)[number]; // unknown variable
    recipients[1200] = { to: '+1 415', variables: { name: 'x', order: 'y' } }; // invalid number, second chunk

    const data = expectNoErrors(await account.sender(SEND_MANY, { input: { recipients, templateId } })).sendMessages;
    expect(data.__typename).toBe('SendMessagesSuccess');
    expect(data.rejected.map((r: any) => [r.index, r.code])).toEqual([
      [3, 'INVALID_PHONE_NUMBER'],
      [10, 'TEMPLATE_VARIABLES_MISMATCH'],
      [20, 'RECIPIENT_OPTED_OUT'],
      [30, 'TEMPLATE_VARIABLES_MISMATCH'],
      [1200, 'INVALID_PHONE_NUMBER'],
    ]);
    expect(data.accepted).toHaveLength(1495);
    expect(data.accepted.every((m: any) => m.batchId === data.batchId && m.status === 'QUEUED')).toBe(true);
    expect(data.accepted.find((m: any) => m.to === '+14155551000').body).toBe('Hi N0, your order O-0 has shipped');
    expect(data.accepted.find((m: any) => m.to === '+14155552499').body).toBe('Hi N1499, your order O-1499 has shipped');
    expect(data.data).toMatchObject({ total: 1500, acceptedCount: 1495, rejectedCount: 5, statusCounts: [{ status: 'QUEUED', count: 1495 }] });

    const stored = await t.database.prisma.message.count({ where: { accountId: account.accountId, batchId: data.batchId } });
    expect(stored).toBe(1495);
    const events = await t.database.prisma.messageEvent.count({ where: { message: { batchId: data.batchId } } });
    expect(events).toBe(1495);

    const batch = expectNoErrors(await account.sender(`query($id: ID!) { batch(id: $id) { total rejected { index code } statusCounts { status count } } }`, { id: data.batchId })).batch;
    expect(batch).toMatchObject({ total: 1500, statusCounts: [{ status: 'QUEUED', count: 1495 }] });
    expect(batch.rejected).toHaveLength(5);
  });

  it("stores what the call sets for all recipients (sender, schedule, metadata) and what differs per recipient (body, encoding, segments, variables) on each message, with its first event", async () => {
    const account = await t.seedAccount();
    // A number of its own: identities are unique across accounts, and test files share one database.
    expect(expectNoErrors(await account.admin(`mutation { addSenderIdentity(value: "+1 415 555 0166", isDefault: true) { __typename } }`)).addSenderIdentity.__typename).toBe(
      'AddSenderIdentitySuccess',
    );
    const scheduledAt = new Date(Date.now() + 3_600_000).toISOString();
    const common = { scheduledAt, metadata: { campaign: 'spring' } };
    const plain = expectNoErrors(
      await account.sender(SEND_MANY, { input: { ...common, body: 'Sale ends soon', recipients: [{ to: '+14155550101' }, { to: '+1 (415) 555-0102' }, { to: 'nope' }] } }),
    ).sendMessages;
    expect(plain.rejected.map((r: any) => [r.index, r.code])).toEqual([[2, 'INVALID_PHONE_NUMBER']]);
    const templateId = await approvedTemplate(account, 'Hi {{name}}');
    const names = ['Ann', 'Zoë', 'B'.repeat(200)];
    const templated = expectNoErrors(
      await account.sender(SEND_MANY, { input: { ...common, templateId, recipients: names.map((name, i) => ({ to: `+1415555020${i}`, variables: { name } })) } }),
    ).sendMessages;
    expect(templated.rejected).toEqual([]);

    const stored = async (batchId: string) =>
      (await t.database.prisma.message.findMany({ where: { accountId: account.accountId, batchId }, include: { events: true }, orderBy: { to: 'asc' } })).map((m) => ({
        to: m.to,
        from: m.from,
        body: m.body,
        encoding: m.encoding,
        segments: m.segments,
        status: m.status,
        scheduledAt: m.scheduledAt?.toISOString(),
        dueAt: m.dueAt?.toISOString(),
        metadata: m.metadata,
        variables: m.variables,
        templateId: m.templateId,
        category: m.category,
        events: m.events.map((e) => [e.status, e.source, e.applied]),
      }));
    const shared = { from: '+14155550166', status: 'SCHEDULED', scheduledAt, dueAt: scheduledAt, metadata: { campaign: 'spring' }, events: [['SCHEDULED', 'API', true]] };
    expect(await stored(plain.batchId)).toEqual([
      { ...shared, to: '+14155550101', body: 'Sale ends soon', encoding: 'GSM7', segments: 1, variables: null, templateId: null, category: null },
      { ...shared, to: '+14155550102', body: 'Sale ends soon', encoding: 'GSM7', segments: 1, variables: null, templateId: null, category: null },
    ]);
    const { id: decodedTemplateId } = await t.database.prisma.template.findFirstOrThrow({ where: { accountId: account.accountId } });
    const onTemplate = { ...shared, templateId: decodedTemplateId, category: 'NOTIFICATION' };
    expect(await stored(templated.batchId)).toEqual([
      { ...onTemplate, to: '+14155550200', body: 'Hi Ann', encoding: 'GSM7', segments: 1, variables: { name: 'Ann' } },
      { ...onTemplate, to: '+14155550201', body: 'Hi Zoë', encoding: 'UCS2', segments: 1, variables: { name: 'Zoë' } },
      { ...onTemplate, to: '+14155550202', body: `Hi ${'B'.repeat(200)}`, encoding: 'GSM7', segments: 2, variables: { name: 'B'.repeat(200) } },
    ]);
  });

  it('records a batch whose recipients were all refused, with no messages', async () => {
    const account = await t.seedAccount();
    const data = expectNoErrors(await account.sender(SEND_MANY, { input: { recipients: [{ to: 'bad' }, { to: '12' }], body: 'x' } })).sendMessages;
    expect(data.accepted).toEqual([]);
    expect(data.data).toMatchObject({ total: 2, acceptedCount: 0, rejectedCount: 2, statusCounts: [] });
    expect(await t.database.prisma.message.count({ where: { accountId: account.accountId } })).toBe(0);
  });

  it('returns the first batch for a retry with the same idempotency key, even when both race, and refuses a different input', async () => {
    const account = await t.seedAccount();
    const input = { recipients: [{ to: '+14155550100' }, { to: 'bad' }], body: 'once', idempotencyKey: 'bulk-1' };
    const results = await Promise.all(Array.from({ length: 5 }, () => account.sender(SEND_MANY, { input })));
    const batchIds = new Set(results.map((r) => expectNoErrors(r).sendMessages.batchId));
    expect(batchIds.size).toBe(1);
    expect(await t.database.prisma.message.count({ where: { accountId: account.accountId } })).toBe(1);
    expect(expectNoErrors(results[4]).sendMessages.rejected).toEqual([{ index: 1, to: 'bad', code: 'INVALID_PHONE_NUMBER', message: '"bad" is not a valid phone number' }]);

    const conflict = expectNoErrors(await account.sender(SEND_MANY, { input: { ...input, body: 'twice' } })).sendMessages;
    expect(conflict.code).toBe('IDEMPOTENCY_CONFLICT');
  });

  it('accepts the first recipients in order when the account quota runs short, across chunks', async () => {
    const account = await t.seedAccount();
    await setSettings(account.admin, { limits: { accountQuota: [{ max: 1_300, perSeconds: 3600 }] } });
    const recipients = Array.from({ length: 2_000 }, (_, i) => ({ to: `+1415556${String(1000 + i).padStart(4, '0')}` }));
    const { rejected } = expectNoErrors(await account.sender(SEND_MANY, { input: { recipients, body: 'Sale' } })).sendMessages;
    expect(rejected).toHaveLength(700);
    expect(rejected.every((r: any, i: number) => r.index === 1_300 + i && r.code === 'RATE_LIMITED')).toBe(true);
    expect(await t.database.prisma.message.count({ where: { accountId: account.accountId } })).toBe(1_300);
  });

  it('keeps one batch of large concurrent retries with one idempotency key, each answered with it', async () => {
    const account = await t.seedAccount();
    const recipients = Array.from({ length: 2_000 }, (_, i) => ({ to: i === 5 ? 'bad' : `+1415556${String(1000 + i).padStart(4, '0')}` }));
    const input = { recipients, body: 'Sale', idempotencyKey: 'big-1' };
    const results = await Promise.all(Array.from({ length: 4 }, () => account.sender(SEND_MANY, { input })));
    const answers = results.map((r) => expectNoErrors(r).sendMessages);
    expect(new Set(answers.map((a) => a.batchId)).size).toBe(1);
    expect(answers.every((a) => a.rejected.length === 1 && a.rejected[0].index === 5)).toBe(true);
    expect(await t.database.prisma.message.count({ where: { accountId: account.accountId } })).toBe(1_999);
    expect(await t.database.prisma.messageEvent.count({ where: { message: { accountId: account.accountId } } })).toBe(1_999);
    expect(await t.database.prisma.batch.count({ where: { accountId: account.accountId } })).toBe(1);
  });

  it('refuses the whole call for an empty list, more than 10 000 recipients, or a template that is not approved', async () => {
    const account = await t.seedAccount();
    const empty = expectNoErrors(await account.sender(SEND_MANY, { input: { recipients: [], body: 'x' } })).sendMessages;
    expect(empty.code).toBe('VALIDATION_FAILED');
    const tooMany = expectNoErrors(await account.sender(SEND_MANY, { input: { recipients: Array.from({ length: 10_001 }, () => ({ to: '+14155550100' })), body: 'x' } })).sendMessages;
    expect(tooMany).toMatchObject({ code: 'VALIDATION_FAILED', issues: [{ path: ['input', 'recipients'] }] });
    const draft = expectNoErrors(
      await account.sender(`mutation { createTemplate(input: { name: "d", body: "hi", category: MARKETING }) { ... on CreateTemplateSuccess { data { id } } } }`),
    ).createTemplate.data.id;
    const notApproved = expectNoErrors(await account.sender(SEND_MANY, { input: { recipients: [{ to: '+14155550100' }], templateId: draft } })).sendMessages;
    expect(notApproved.code).toBe('TEMPLATE_NOT_APPROVED');
    expect(await t.database.prisma.message.count({ where: { accountId: account.accountId } })).toBe(0);
  });

  it("keeps batches per account: another account's batch id is not found", async () => {
    const a = await t.seedAccount();
    const b = await t.seedAccount();
    const batchId = expectNoErrors(await a.sender(SEND_MANY, { input: { recipients: [{ to: '+14155550100' }], body: 'x' } })).sendMessages.batchId;
    expect(expectNoErrors(await b.sender(`query($id: ID!) { batch(id: $id) { total } }`, { id: batchId })).batch).toBeNull();
    expect(expectNoErrors(await b.sender(`query($id: ID!) { messages(filter: { batchId: $id }) { edges { node { id } } } }`, { id: batchId })).messages.edges).toEqual([]);
  });
});

describe('the batch writer (store/batches.ts)', () => {
  const draft = (to: string, templateId: string | null = null): MessageDraft => {
    const { encoding, segments } = analyzeBody('hello');
    return { to, from: null, body: 'hello', encoding, segments, status: 'QUEUED', scheduledAt: null, idempotencyKey: null, metadata: null, variables: null, templateId, templateVersionId: null, category: null };
  };
  const chunk = (from: number, count: number, templateId: string | null = null) => {
    const drafts = Array.from({ length: count }, (_, i) => draft(`+1415557${String(from + i).padStart(4, '0')}`, templateId));
    return { ids: drafts.map(() => uuidv7()), drafts };
  };
  const row = { idempotency: null, total: 0, rejections: [] };

  // 2 000 messages: a batch that streams on PostgreSQL (one transaction open across the chunks)
  // and is written at commit on PGlite; the outcome must be the same.
  it('commits every chunk with the batch row, or nothing when a chunk fails or the caller aborts', async () => {
    const account = await t.seedAccount();
    const batches = createBatches(t.database.prisma, t.database.poolSize);
    const count = () => t.database.prisma.message.count({ where: { accountId: account.accountId } });

    const ok = batches.begin(uuidv7(), account.accountId, 2_000);
    for (const part of [chunk(0, 1_000), chunk(1_000, 1_000)]) await ok.add(part.ids, part.drafts);
    expect(await ok.commit({ ...row, total: 2_000 })).toBe(true);
    expect(await count()).toBe(2_000);

    const aborted = batches.begin(uuidv7(), account.accountId, 2_000);
    const first = chunk(2_000, 1_000);
    await aborted.add(first.ids, first.drafts);
    await aborted.abort();
    expect(await count()).toBe(2_000);

    // The second chunk names a template that does not exist: its INSERT fails, and the first
    // chunk, already written in the same transaction, goes with it.
    const failing = batches.begin(uuidv7(), account.accountId, 2_000);
    const good = chunk(3_000, 1_000);
    const bad = chunk(4_000, 1_000, uuidv7());
    await failing.add(good.ids, good.drafts);
    await failing.add(bad.ids, bad.drafts);
    await expect(failing.commit({ ...row, total: 2_000 })).rejects.toThrow();
    expect(await count()).toBe(2_000);
    expect(await t.database.prisma.batch.count({ where: { accountId: account.accountId } })).toBe(1);
  });
});

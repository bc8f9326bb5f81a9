import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoErrors, startTestHerald, type SeededAccount, type TestHerald } from '../support/herald.js';

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
  it('accepts 1 000 recipients with deliberately bad rows: every bad row is named by index and code, the rest stored under one batch', async () => {
    const account = await t.seedAccount();
    const templateId = await approvedTemplate(account, 'Hi {{name}}, your order {{order}} has shipped');
    expectNoErrors(await account.sender(`mutation { addOptOut(phone: "+14155550177") { __typename } }`));
    const recipients = Array.from({ length: 1000 }, (_, i) => ({ to: `+1415555${String(1000 + i).padStart(4, '0')}`, variables: { name: `N${i}`, order: `O-${i}` } }));
    recipients[3] = { to: '12345', variables: { name: 'x', order: 'y' } }; // invalid number
    recipients[10] = { to: '+14155552010', variables: { name: 'x' } } as (typeof recipients)[number]; // missing variable
    recipients[20] = { to: '+14155550177', variables: { name: 'x', order: 'y' } }; // opted out
    recipients[30] = { to: '+14155552030', variables: { name: 'x', order: 'y', extra: 1 } } as (typeof recipients)[number]; // unknown variable

    const data = expectNoErrors(await account.sender(SEND_MANY, { input: { recipients, templateId } })).sendMessages;
    expect(data.__typename).toBe('SendMessagesSuccess');
    expect(data.rejected.map((r: any) => [r.index, r.code])).toEqual([
      [3, 'INVALID_PHONE_NUMBER'],
      [10, 'TEMPLATE_VARIABLES_MISMATCH'],
      [20, 'RECIPIENT_OPTED_OUT'],
      [30, 'TEMPLATE_VARIABLES_MISMATCH'],
    ]);
    expect(data.accepted).toHaveLength(996);
    expect(data.accepted.every((m: any) => m.batchId === data.batchId && m.status === 'QUEUED')).toBe(true);
    expect(data.accepted.find((m: any) => m.to === '+14155551000').body).toBe('Hi N0, your order O-0 has shipped');
    expect(data.data).toMatchObject({ total: 1000, acceptedCount: 996, rejectedCount: 4, statusCounts: [{ status: 'QUEUED', count: 996 }] });

    const stored = await t.database.prisma.message.count({ where: { accountId: account.accountId, batchId: data.batchId } });
    expect(stored).toBe(996);
    const events = await t.database.prisma.messageEvent.count({ where: { message: { batchId: data.batchId } } });
    expect(events).toBe(996);

    const batch = expectNoErrors(await account.sender(`query($id: ID!) { batch(id: $id) { total rejected { index code } statusCounts { status count } } }`, { id: data.batchId })).batch;
    expect(batch).toMatchObject({ total: 1000, statusCounts: [{ status: 'QUEUED', count: 996 }] });
    expect(batch.rejected).toHaveLength(4);
  });

  it("stores what the call sets for all recipients (sender, schedule, metadata) and what differs per recipient (body, encoding, segments, variables) on each message, with its first event", async () => {
    const account = await t.seedAccount();
    expectNoErrors(await account.admin(`mutation { addSenderIdentity(value: "+1 415 555 0199", isDefault: true) { __typename } }`));
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
    const shared = { from: '+14155550199', status: 'SCHEDULED', scheduledAt, dueAt: scheduledAt, metadata: { campaign: 'spring' }, events: [['SCHEDULED', 'API', true]] };
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

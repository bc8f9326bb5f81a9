// eraseRecipientData: the number's data is written everywhere it can go (messages sent, failed,
// scheduled, sent with an idempotency key, in a batch with a refused look-alike, a verification,
// replies and a STOP, webhook deliveries), then erased; every column of every table and every
// GraphQL answer is scanned for the number in five formats. The opt-out stays honoured (hashed),
// another number and another account keep everything, and the erasure is in the audit log masked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDeliveryHerald } from '../support/delivery.js';
import { expectNoErrors, type SeededAccount, type TestHerald } from '../support/herald.js';
import { waitUntil } from '../support/services.js';

const NUMBER = '+8613800138000';
const FORMATS = ['8613800138000', '13800138000', '138 0013 8000', '138-0013-8000', '+86 138 0013 8000'];
const OTHER = '+8613900139000';
const OUR = '+14155550150';

let t: TestHerald;
beforeAll(async () => {
  t = await startDeliveryHerald({
    outgoingWebhooks: { retrySchedule: [60_000], pollMs: 50, timeoutMs: 2_000, batchSize: 50, disableAfterFailures: 1000, disableAfterMs: 3_600_000, allowPrivateUrls: true },
  });
});
afterAll(async () => {
  await t?.stop();
});

const ERASE = `mutation($phone: String!) { eraseRecipientData(phone: $phone) { __typename
  ... on EraseRecipientDataSuccess { data { phone messages canceled replies verifications webhookDeliveries batches pendingReports optOutKept } }
  ... on Error { code message } } }`;

/** Every table's text and JSON columns: how many rows hold any format of the number. */
async function scanDatabase(): Promise<Record<string, number>> {
  const columns = await t.database.prisma.$queryRaw<{ table: string; column: string }[]>`
    SELECT table_name AS table, column_name AS column FROM information_schema.columns
    WHERE table_schema = 'public' AND table_name <> '_prisma_migrations' AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'ARRAY')`;
  expect(columns.length).toBeGreaterThan(50);
  const found: Record<string, number> = {};
  for (const { table, column } of columns) {
    const patterns = FORMATS.map((f) => `%${f}%`);
    const [{ n }] = await t.database.prisma.$queryRawUnsafe<[{ n: number }]>(`SELECT count(*)::int AS n FROM "${table}" WHERE "${column}"::text LIKE ANY($1::text[])`, patterns);
    if (n > 0) found[`${table}.${column}`] = n;
  }
  return found;
}

async function graphqlAnswers(account: SeededAccount): Promise<string> {
  const endpoints = expectNoErrors(await account.admin(`{ webhookEndpoints { id } }`)).webhookEndpoints as { id: string }[];
  const answers = [
    await account.admin(`{ messages(first: 100) { edges { node { to from body status events { status rawStatus errorCode } } } } }`),
    await account.admin(`query($p: String!) { conversation(phone: $p, first: 50) { edges { node { __typename } } } }`, { p: NUMBER }),
    await account.admin(`{ inboundMessages(first: 50) { edges { node { from to body } } } }`),
    await account.admin(`{ verifications(first: 50) { edges { node { to status } } } }`),
    await account.admin(`{ optOuts(first: 50) { edges { node { phone source } } } }`),
    await account.admin(`{ auditLog(first: 100) { edges { node { action subjectId before after } } } }`),
    ...(await Promise.all(endpoints.map((e) => account.admin(`query($id: ID!) { webhookDeliveries(endpointId: $id, first: 100) { edges { node { payload } } } }`, { id: e.id })))),
  ];
  return JSON.stringify(answers);
}

async function writeEverywhere(account: SeededAccount): Promise<void> {
  expectNoErrors(await account.admin(`mutation { addSenderIdentity(value: "${OUR}", isDefault: true) { __typename } }`));
  expectNoErrors(
    await account.admin(`mutation($url: String!) { createWebhookEndpoint(input: { url: $url, eventTypes: [MESSAGE_STATUS_CHANGED, INBOUND_RECEIVED] }) { __typename } }`, {
      url: 'http://127.0.0.1:9/hook', // refused connection: deliveries stay in the log, retried later
    }),
  );
  const send = (input: Record<string, unknown>) => account.admin(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { __typename ... on Error { code } } }`, { input });
  for (const input of [
    { to: '+86 138 0013 8000', body: 'Hello Ming, your table is ready' },
    { to: NUMBER, body: 'Sent once', idempotencyKey: 'erase-idem-1' },
    { to: NUMBER, body: 'Later', scheduledAt: new Date(Date.now() + 86_400_000).toISOString() },
    { to: OTHER, body: 'Hello other' },
  ]) {
    expect(expectNoErrors(await send(input)).sendMessage.__typename).toBe('SendMessageSuccess');
  }
  const bulk = expectNoErrors(
    await account.admin(`mutation($input: SendMessagesInput!) { sendMessages(input: $input) { __typename ... on SendMessagesSuccess { rejected { index code } } } }`, {
      input: { recipients: [{ to: NUMBER }, { to: `${NUMBER}99` }, { to: OTHER }], body: "Bulk hello" },
    }),
  ).sendMessages;
  expect(bulk.rejected).toHaveLength(1); // the look-alike, quoted in the batch
  expect(expectNoErrors(await account.admin(`mutation { startVerification(input: { to: "${NUMBER}" }) { __typename } }`)).startVerification.__typename).toBe('StartVerificationSuccess');
  for (const body of ['Is it still open?', 'STOP']) {
    expectNoErrors(await account.admin(`mutation($b: String!) { simulateInboundMessage(from: "${NUMBER}", to: "${OUR}", body: $b) { __typename } }`, { b: body }));
  }
  expectNoErrors(await account.admin(`mutation { simulateInboundMessage(from: "${OTHER}", to: "${OUR}", body: "Other reply") { __typename } }`));
  // Delivered, and the webhook deliveries naming the number relayed.
  await waitUntil(
    async () => {
      const rows = await t.database.prisma.webhookDelivery.count({ where: { endpoint: { accountId: account.accountId }, payload: { contains: NUMBER } } });
      const open = await t.database.prisma.message.count({ where: { accountId: account.accountId, status: { in: ['QUEUED', 'SENDING'] } } });
      return rows >= 4 && open === 0 ? true : undefined;
    },
    { timeoutMs: 20_000, describe: () => 'messages not final or webhook deliveries not relayed' },
  );
}

describe('eraseRecipientData', () => {
  it('erases the number from every table and every answer, keeps the opt-out hashed, and leaves the rest', async () => {
    const account = await t.seedAccount();
    const bystander = await t.seedAccount();
    await writeEverywhere(account);
    expectNoErrors(await bystander.admin(`mutation { addOptOut(phone: "${NUMBER}") { __typename } }`));
    // The scan finds the number before (it can fail).
    const before = await scanDatabase();
    for (const table of ['Message.to', 'InboundMessage.from', 'Verification.to', 'OptOut.phone', 'WebhookDelivery.payload', 'Batch.rejections']) expect(before, table).toHaveProperty([table]);
    expect(await graphqlAnswers(account)).toContain(NUMBER);

    const erased = expectNoErrors(await account.admin(ERASE, { phone: '+86 138-0013-8000' })).eraseRecipientData;
    expect(erased).toMatchObject({
      __typename: 'EraseRecipientDataSuccess',
      data: { phone: '+86 138****8000', messages: 5, canceled: 1, replies: 2, verifications: 1, batches: 1, optOutKept: true },
    });
    expect(erased.data.webhookDeliveries).toBeGreaterThanOrEqual(4);

    // Only the bystander account's opt-out (its own data, not erased) still holds the number.
    expect(await scanDatabase()).toEqual({ 'OptOut.phone': 1 });
    const answers = await graphqlAnswers(account);
    for (const format of [NUMBER, ...FORMATS]) expect(answers, format).not.toContain(format);
    expect(answers).toContain('+86 138****8000'); // the audit entry, masked
    expect(answers).toContain(OTHER); // the other number keeps everything
    expect(await t.database.prisma.message.count({ where: { accountId: account.accountId, to: OTHER } })).toBe(2);
    expect(await t.database.prisma.inboundMessage.count({ where: { accountId: account.accountId, from: OTHER } })).toBe(1);

    // The erased messages keep their metadata for history and stats: same country, status kept.
    const kept = await t.database.prisma.message.findMany({ where: { accountId: account.accountId, to: { not: OTHER } }, select: { to: true, body: true, status: true, redactedAt: true } });
    expect(kept).toHaveLength(5); // 3 single sends, 1 of the batch, the verification code
    for (const m of kept) expect(m).toMatchObject({ to: expect.stringMatching(/^\+86/), body: '', redactedAt: expect.any(Date) });
    expect(kept.map((m) => m.status).sort()).toEqual(['CANCELED', 'DELIVERED', 'DELIVERED', 'DELIVERED', 'DELIVERED']);

    // STOP stays honoured; START from the number ends it.
    const refused = expectNoErrors(await account.admin(`mutation { sendMessage(input: { to: "${NUMBER}", body: "again" }) { __typename ... on Error { code } } }`)).sendMessage;
    expect(refused.code).toBe('RECIPIENT_OPTED_OUT');
    expectNoErrors(await account.admin(`mutation { simulateInboundMessage(from: "${NUMBER}", to: "${OUR}", body: "START") { __typename } }`));
    expect(await t.database.prisma.optOut.count({ where: { accountId: account.accountId } })).toBe(0);

    // The erasure is in the audit log, the number masked and findable by its hash.
    const audit = expectNoErrors(await account.admin(`query($p: String!) { auditLog(first: 5, filter: { phone: $p, action: "recipient.erase" }) { edges { node { action subjectId after } } } }`, { p: NUMBER })).auditLog.edges;
    expect(audit).toHaveLength(1);
    expect(audit[0].node).toMatchObject({ action: 'recipient.erase', subjectId: '+86 138****8000', after: { messages: 5, replies: 2 } });
  });

  it('refuses an invalid number and a SENDER key, erasing nothing', async () => {
    const account = await t.seedAccount();
    expectNoErrors(await account.admin(`mutation { addOptOut(phone: "${NUMBER}") { __typename } }`));
    const invalid = expectNoErrors(await account.admin(ERASE, { phone: '+86 138' })).eraseRecipientData;
    expect(invalid).toMatchObject({ __typename: 'InvalidPhoneNumberError', code: 'INVALID_PHONE_NUMBER' });
    const sender = expectNoErrors(await account.sender(ERASE, { phone: NUMBER })).eraseRecipientData;
    expect(sender).toMatchObject({ code: 'FORBIDDEN' });
    expect(await t.database.prisma.optOut.findMany({ where: { accountId: account.accountId }, select: { phone: true } })).toEqual([{ phone: NUMBER }]);
  });
});

// The audit log: every administrative action leaves one entry (who, what, before and after) on
// the change's own transaction, never a secret or a whole phone number; the database refuses to
// change or delete an entry; ADMIN keys read, filter, page and export their account's log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAudit } from '../../src/services/audit.js';
import { decodeId } from '../../src/schema/global-id.js';
import { startDeliveryHerald } from '../support/delivery.js';
import { expectNoErrors, type GraphQLCaller, type SeededAccount, type TestHerald } from '../support/herald.js';

let t: TestHerald;
let operator: SeededAccount;
let tenant: SeededAccount;

beforeAll(async () => {
  // Dispatching: on PostgreSQL this Herald gets a database of its own, so the provider and
  // routing changes below reach no other test file.
  t = await startDeliveryHerald({
    providers: ['simulator'],
    outgoingWebhooks: { retrySchedule: [60_000], pollMs: 50, timeoutMs: 1_000, batchSize: 50, disableAfterFailures: 100, disableAfterMs: 3_600_000, allowPrivateUrls: true },
  });
  operator = await t.seedAccount('default');
  tenant = await t.seedAccount();
});
afterAll(async () => {
  await t?.stop();
});

interface Entry {
  id: string;
  at: string;
  accountId: string;
  keyId: string | null;
  keyName: string | null;
  action: string;
  subjectType: string;
  subjectId: string | null;
  before: any;
  after: any;
  requestId: string | null;
}

const ENTRY = 'id at accountId keyId keyName action subjectType subjectId before after requestId';
const AUDIT_LOG = `query($first: Int, $after: String, $filter: AuditLogFilter) {
  auditLog(first: $first, after: $after, filter: $filter) { edges { cursor node { ${ENTRY} } } pageInfo { hasNextPage endCursor } }
}`;

async function log(caller: GraphQLCaller, filter: Record<string, unknown> = {}, first = 500): Promise<Entry[]> {
  return expectNoErrors(await caller(AUDIT_LOG, { first, filter })).auditLog.edges.map((e: { node: Entry }) => e.node);
}

/** The newest entry of `action` in the caller's log. */
async function latest(caller: GraphQLCaller, action: string): Promise<Entry> {
  const [entry] = await log(caller, { action }, 1);
  expect(entry, `an entry for ${action}`).toBeDefined();
  return entry!;
}

async function keyIdOf(account: SeededAccount, name = 'admin'): Promise<string> {
  return (await t.database.prisma.apiKey.findFirstOrThrow({ where: { accountId: account.accountId, name } })).id;
}

async function mutate(caller: GraphQLCaller, query: string, variables: Record<string, unknown> = {}) {
  const data = expectNoErrors(await caller(query, variables));
  return Object.values(data)[0] as any;
}

const count = async () => t.database.prisma.auditEntry.count();

describe('recording', () => {
  it('API keys: created and revoked, by whom, never the secret', async () => {
    const created = await mutate(tenant.admin, `mutation { createApiKey(name: "ci", role: SENDER) { __typename ... on CreateApiKeySuccess { data { secret apiKey { id prefix } } } } }`);
    expect(created.__typename).toBe('CreateApiKeySuccess');
    const keyId = decodeId(created.data.apiKey.id, 'ApiKey') as string;
    const entry = await latest(tenant.admin, 'apiKey.create');
    expect(entry).toMatchObject({
      accountId: tenant.accountId,
      keyId: await keyIdOf(tenant),
      keyName: 'admin',
      subjectType: 'apiKey',
      subjectId: keyId,
      before: null,
      after: { name: 'ci', role: 'SENDER', prefix: created.data.apiKey.prefix, revokedAt: null },
    });
    expect(entry.requestId).toEqual(expect.any(String));
    expect(Date.now() - Date.parse(entry.at)).toBeLessThan(60_000);
    expect(JSON.stringify(entry)).not.toContain(created.data.secret);
    expect(JSON.stringify(entry)).not.toContain(created.data.secret.slice(-20));

    const revoked = await mutate(tenant.admin, `mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }`, { id: keyId });
    expect(revoked.__typename).toBe('RevokeApiKeySuccess');
    const revoke = await latest(tenant.admin, 'apiKey.revoke');
    expect(revoke).toMatchObject({ subjectId: keyId, before: { name: 'ci', revokedAt: null }, after: { name: 'ci', revokedAt: expect.any(String) } });
    // Revoking it again changes nothing and logs nothing.
    const before = await count();
    await mutate(tenant.admin, `mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }`, { id: keyId });
    expect(await count()).toBe(before);
  });

  it('templates: created, edited, submitted, reviewed, mapped and deleted', async () => {
    const created = await mutate(tenant.admin, `mutation { createTemplate(input: { name: "audit-otp", body: "Code {{code}}", category: OTP }) { ... on CreateTemplateSuccess { data { id } } } }`);
    const id = decodeId(created.data.id, 'Template') as string;
    expect(await latest(tenant.admin, 'template.create')).toMatchObject({ subjectType: 'template', subjectId: id, after: { name: 'audit-otp', body: 'Code {{code}}', status: 'DRAFT', version: 1 } });

    await mutate(tenant.sender, `mutation($id: ID!) { updateTemplate(id: $id, input: { body: "Your code {{code}}" }) { __typename } }`, { id });
    // A SENDER key's edit names the SENDER key.
    expect(await latest(tenant.admin, 'template.update')).toMatchObject({ keyId: await keyIdOf(tenant, 'sender'), keyName: 'sender', before: { body: 'Code {{code}}' }, after: { body: 'Your code {{code}}' } });

    await mutate(tenant.sender, `mutation($id: ID!) { submitTemplate(id: $id) { __typename } }`, { id });
    expect(await latest(tenant.admin, 'template.submit')).toMatchObject({ subjectId: id, before: { status: 'DRAFT' }, after: { status: 'PENDING_REVIEW' } });

    const approved = await mutate(tenant.admin, `mutation($id: ID!) { reviewTemplate(id: $id, approve: true) { __typename } }`, { id });
    expect(approved.__typename).toBe('ReviewTemplateSuccess');
    expect(await latest(tenant.admin, 'template.approve')).toMatchObject({ keyName: 'admin', subjectId: id, before: { status: 'PENDING_REVIEW' }, after: { status: 'APPROVED', version: 1 } });

    const mapped = await mutate(tenant.admin, `mutation($id: ID!) { setTemplateProviderMapping(id: $id, provider: "simulator", code: "SMS_1") { __typename } }`, { id });
    expect(mapped.__typename).toBe('SetTemplateProviderMappingSuccess');
    expect(await latest(tenant.admin, 'template.mapProvider')).toMatchObject({ before: { provider: 'simulator', mapping: null }, after: { provider: 'simulator', mapping: { code: 'SMS_1' } } });

    // A second template, rejected with a reason, then deleted.
    const other = await mutate(tenant.admin, `mutation { createTemplate(input: { name: "audit-promo", body: "Sale!", category: MARKETING }) { ... on CreateTemplateSuccess { data { id } } } }`);
    const otherId = decodeId(other.data.id, 'Template') as string;
    await mutate(tenant.admin, `mutation($id: ID!) { submitTemplate(id: $id) { __typename } }`, { id: otherId });
    await mutate(tenant.admin, `mutation($id: ID!) { reviewTemplate(id: $id, approve: false, reason: "no sender name") { __typename } }`, { id: otherId });
    expect(await latest(tenant.admin, 'template.reject')).toMatchObject({ subjectId: otherId, after: { status: 'REJECTED', reason: 'no sender name' } });
    await mutate(tenant.admin, `mutation($id: ID!) { deleteTemplate(id: $id) { __typename } }`, { id: otherId });
    expect(await latest(tenant.admin, 'template.delete')).toMatchObject({ subjectId: otherId });

    // Every entry about the first template, through the subject filter, oldest last.
    const history = await log(tenant.admin, { subjectType: 'template', subjectId: id });
    expect(history.map((e) => e.action)).toEqual(['template.mapProvider', 'template.approve', 'template.submit', 'template.update', 'template.create']);
  });

  it('settings, limits and word rules', async () => {
    const updated = await mutate(tenant.admin, `mutation { updateAccountSettings(input: { otpBypassesOptOut: false, helpText: "Reply STOP to stop" }) { __typename } }`);
    expect(updated.__typename).toBe('UpdateAccountSettingsSuccess');
    expect(await latest(tenant.admin, 'settings.update')).toMatchObject({
      subjectType: 'accountSettings',
      subjectId: tenant.accountId,
      before: { otpBypassesOptOut: true, helpText: null },
      after: { otpBypassesOptOut: false, helpText: 'Reply STOP to stop' },
    });

    await mutate(tenant.admin, `mutation { addSensitiveWordRule(kind: BLOCK, word: "Globex") { __typename } }`);
    expect(await latest(tenant.admin, 'sensitiveWord.add')).toMatchObject({ subjectType: 'sensitiveWordRule', after: { kind: 'BLOCK', word: 'Globex' } });
    // The same rule again is no change: no second entry.
    const before = await count();
    await mutate(tenant.admin, `mutation { addSensitiveWordRule(kind: BLOCK, word: "Globex") { __typename } }`);
    expect(await count()).toBe(before);
    await mutate(tenant.admin, `mutation { removeSensitiveWordRule(kind: BLOCK, word: "globex") { __typename } }`);
    expect(await latest(tenant.admin, 'sensitiveWord.remove')).toMatchObject({ before: { kind: 'BLOCK', words: ['Globex'] } });
  });

  it('opt-outs through the API: the number masked, found by number through its keyed hash', async () => {
    const added = await mutate(tenant.sender, `mutation { addOptOut(phone: "+8613800138000") { __typename } }`);
    expect(added.__typename).toBe('AddOptOutSuccess');
    const entry = await latest(tenant.admin, 'optOut.add');
    expect(entry).toMatchObject({ subjectType: 'optOut', subjectId: '+86 138****8000', after: { phone: '+86 138****8000', source: 'API' } });
    await mutate(tenant.admin, `mutation { removeOptOut(phone: "+86 138 0013 8000") { __typename } }`);
    expect(await latest(tenant.admin, 'optOut.remove')).toMatchObject({ subjectId: '+86 138****8000', before: { phone: '+86 138****8000' } });

    // Found by the number in any spelling; another number finds nothing.
    expect((await log(tenant.admin, { phone: '+86 138-0013-8000' })).map((e) => e.action)).toEqual(['optOut.remove', 'optOut.add']);
    expect(await log(tenant.admin, { phone: '+8613800138001' })).toEqual([]);
    const bad = await tenant.admin(AUDIT_LOG, { filter: { phone: 'not a number' } });
    expect(bad.errors?.[0]?.extensions?.code).toBe('INVALID_PHONE_NUMBER');

    // The number is nowhere in the table, in any column.
    const rows = await t.database.prisma.auditEntry.findMany({ where: { accountId: tenant.accountId } });
    expect(JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).not.toMatch(/13800138000/);
  });

  it('sender identities: a number masked, an alphanumeric id as it is', async () => {
    const added = await mutate(tenant.admin, `mutation { addSenderIdentity(value: "+14155550123", isDefault: true) { __typename ... on AddSenderIdentitySuccess { data { id } } } }`);
    expect(added.__typename).toBe('AddSenderIdentitySuccess');
    const id = decodeId(added.data.id, 'SenderIdentity') as string;
    expect(await latest(tenant.admin, 'senderIdentity.add')).toMatchObject({ subjectId: id, before: null, after: { kind: 'NUMBER', value: '+1 415***0123', isDefault: true } });
    expect((await log(tenant.admin, { phone: '+14155550123' })).map((e) => e.action)).toEqual(['senderIdentity.add']);

    // The simulator's reply from a handset to it: the handset's number masked too.
    const reply = await mutate(tenant.admin, `mutation { simulateInboundMessage(from: "+8613900139000", to: "+14155550123", body: "hello") { __typename } }`);
    expect(reply.__typename).toBe('SimulateInboundMessageSuccess');
    expect(await latest(tenant.admin, 'simulator.inbound')).toMatchObject({ after: { from: '+86 139****9000', to: '+1 415***0123', body: 'hello' } });

    await mutate(tenant.admin, `mutation { addSenderIdentity(value: "HERALD") { __typename } }`);
    expect(await latest(tenant.admin, 'senderIdentity.add')).toMatchObject({ after: { kind: 'ALPHANUMERIC', value: 'HERALD' } });
    await mutate(tenant.admin, `mutation($id: ID!) { removeSenderIdentity(id: $id) { __typename } }`, { id });
    expect(await latest(tenant.admin, 'senderIdentity.remove')).toMatchObject({ subjectId: id, before: { value: '+1 415***0123' } });
  });

  it('prices and budgets', async () => {
    const set = await mutate(
      tenant.admin,
      `mutation { setPrice(input: { provider: "simulator", country: "US", currency: "USD", pricePerSegment: "0.0079" }) { __typename ... on SetPriceSuccess { data { id } } } }`,
    );
    expect(set.__typename).toBe('SetPriceSuccess');
    const priceId = decodeId(set.data.id, 'Price') as string;
    expect(await latest(tenant.admin, 'price.set')).toMatchObject({ subjectType: 'price', subjectId: priceId, after: { provider: 'simulator', country: 'US', pricePerSegment: '0.0079' } });
    await mutate(tenant.admin, `mutation($id: ID!) { removePrice(id: $id) { __typename } }`, { id: priceId });
    expect(await latest(tenant.admin, 'price.remove')).toMatchObject({ subjectId: priceId, before: { pricePerSegment: '0.0079' } });
    await mutate(tenant.admin, `mutation($csv: String!) { importPrices(csv: $csv) { __typename } }`, { csv: 'provider,country,prefix,currency,price,effective_from\nsimulator,GB,,GBP,0.03,\n' });
    expect(await latest(tenant.admin, 'price.import')).toMatchObject({ after: { created: 1, replaced: 0, removed: 0, replace: false } });
    // configChanges keeps working beside the audit log.
    const changes = expectNoErrors(await tenant.admin(`{ configChanges(subject: "price:") { action } }`)).configChanges;
    expect(changes.map((c: { action: string }) => c.action)).toEqual(['IMPORT', 'REMOVE', 'SET']);

    await mutate(tenant.admin, `mutation { setBudget(input: { period: DAILY, limit: "10", currency: "USD" }) { __typename } }`);
    await mutate(tenant.admin, `mutation { setBudget(input: { period: DAILY, limit: "12.5", currency: "USD" }) { __typename } }`);
    expect(await latest(tenant.admin, 'budget.set')).toMatchObject({ subjectId: 'DAILY', before: { limit: '10' }, after: { limit: '12.5', currency: 'USD' } });
    await mutate(tenant.admin, `mutation { removeBudget(period: DAILY) { __typename } }`);
    expect(await latest(tenant.admin, 'budget.remove')).toMatchObject({ subjectId: 'DAILY', before: { limit: '12.5' } });
  });

  it('providers and routing: the operator sees them, never a credential; a tenant does not', async () => {
    const secret = 'tok_audit_0123456789-secret';
    const added = await mutate(
      operator.admin,
      `mutation($input: AddProviderInput!) { addProvider(input: $input) { __typename } }`,
      { input: { name: 'twilio-audit', kind: 'TWILIO', settings: { from: '+15005550006' }, credentials: { accountSid: 'ACaudit', authToken: secret }, enabled: false } },
    );
    expect(added.__typename).toBe('AddProviderSuccess');
    expect(await latest(operator.admin, 'provider.add')).toMatchObject({
      accountId: operator.accountId,
      subjectType: 'provider',
      subjectId: 'twilio-audit',
      after: { kind: 'twilio', enabled: false, credentialFields: ['accountSid', 'authToken'], settings: { from: '+1 500***0006' } },
    });
    await mutate(operator.admin, `mutation($input: UpdateProviderInput!) { updateProvider(name: "twilio-audit", input: $input) { __typename } }`, {
      input: { credentials: { accountSid: 'ACaudit2', authToken: `${secret}-2` } },
    });
    expect(await latest(operator.admin, 'provider.update')).toMatchObject({ after: { credentialsChanged: true } });
    await mutate(operator.admin, `mutation($input: UpdateProviderInput!) { updateProvider(name: "twilio-audit", input: $input) { __typename } }`, { input: { enabled: true } });
    expect(await latest(operator.admin, 'provider.enable')).toMatchObject({ before: { enabled: false }, after: { enabled: true } });
    const routed = await mutate(operator.admin, `mutation($d: JSON!) { setRouting(document: $d) { __typename } }`, { d: { routes: [{ match: { countries: ['US'] }, providers: ['twilio-audit'] }] } });
    expect(routed.__typename).toBe('SetRoutingSuccess');
    expect(await latest(operator.admin, 'routing.set')).toMatchObject({ subjectType: 'routing', after: { routes: [{ providers: ['twilio-audit'] }] } });
    await mutate(operator.admin, `mutation { resetRouting { __typename } }`);
    expect(await latest(operator.admin, 'routing.reset')).toMatchObject({ before: { routes: expect.any(Array) } });
    await mutate(operator.admin, `mutation { removeProvider(name: "twilio-audit") { __typename } }`);
    expect(await latest(operator.admin, 'provider.remove')).toMatchObject({ subjectId: 'twilio-audit', before: { kind: 'twilio' } });

    const everything = JSON.stringify(await log(operator.admin, { action: 'provider.' }));
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain('ACaudit');
    expect(await log(tenant.admin, { subjectType: 'provider' })).toEqual([]);
    expect(await log(tenant.admin, { action: 'routing.' })).toEqual([]);
  });

  it('webhook endpoints: created, changed, rotated, a delivery retried, deleted; no secret', async () => {
    const created = await mutate(
      tenant.admin,
      `mutation { createWebhookEndpoint(input: { url: "http://127.0.0.1:9/hook?token=abc123", eventTypes: [MESSAGE_DELIVERED] }) { __typename ... on CreateWebhookEndpointSuccess { data { secret endpoint { id } } } } }`,
    );
    expect(created.__typename).toBe('CreateWebhookEndpointSuccess');
    const id = decodeId(created.data.endpoint.id, 'WebhookEndpoint') as string;
    const entry = await latest(tenant.admin, 'webhookEndpoint.create');
    expect(entry).toMatchObject({ subjectId: id, after: { url: 'http://127.0.0.1:9/hook?token=REDACTED', eventTypes: ['message.delivered'], enabled: true } });
    await mutate(tenant.admin, `mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: { enabled: false }) { __typename } }`, { id });
    expect(await latest(tenant.admin, 'webhookEndpoint.update')).toMatchObject({ before: { enabled: true }, after: { enabled: false } });
    await mutate(tenant.admin, `mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: { enabled: true }) { __typename } }`, { id });
    const rotated = await mutate(tenant.admin, `mutation($id: ID!) { rotateWebhookSecret(id: $id) { __typename ... on RotateWebhookSecretSuccess { data { secret } } } }`, { id });
    expect(await latest(tenant.admin, 'webhookEndpoint.rotateSecret')).toMatchObject({ subjectId: id, after: { secretRotated: true } });

    const delivery = await t.database.prisma.webhookDelivery.create({ data: { endpointId: id, eventId: 'evt_audit', eventType: 'message.delivered', payload: '{}', status: 'FAILED', nextAttemptAt: null } });
    const retried = await mutate(tenant.admin, `mutation($id: ID!) { retryWebhookDelivery(id: $id) { __typename } }`, { id: delivery.id });
    expect(retried.__typename).toBe('RetryWebhookDeliverySuccess');
    expect(await latest(tenant.admin, 'webhookDelivery.retry')).toMatchObject({ subjectId: delivery.id, before: { status: 'FAILED' }, after: { status: 'PENDING', endpointId: id } });

    await mutate(tenant.admin, `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { __typename } }`, { id });
    expect(await latest(tenant.admin, 'webhookEndpoint.delete')).toMatchObject({ subjectId: id, before: { url: 'http://127.0.0.1:9/hook?token=REDACTED' } });

    const all = JSON.stringify(await log(tenant.admin, { action: 'webhook' + 'Endpoint.' }));
    expect(all).not.toContain(created.data.secret);
    expect(all).not.toContain(rotated.data.secret);
    expect(all).not.toContain('abc123');
  });
});

describe('only what committed', () => {
  it('a refused change (validation error) leaves no entry', async () => {
    const before = await count();
    const results = [
      await mutate(tenant.admin, `mutation { createApiKey(name: "  ", role: SENDER) { __typename } }`),
      await mutate(tenant.admin, `mutation { setBudget(input: { period: DAILY, limit: "-1", currency: "USD" }) { __typename } }`),
      await mutate(tenant.admin, `mutation { createTemplate(input: { name: "bad", body: "{{", category: OTP }) { __typename } }`),
      await mutate(operator.admin, `mutation($d: JSON!) { setRouting(document: $d) { __typename } }`, { d: { routes: [{ providers: ['nowhere'] }] } }),
      await mutate(tenant.admin, `mutation { addOptOut(phone: "12") { __typename } }`),
      await mutate(tenant.admin, `mutation { removeSensitiveWordRule(kind: ALLOW, word: "never-added") { __typename } }`),
    ];
    expect(results.map((r) => r.__typename)).toEqual(['ValidationError', 'ValidationError', 'ValidationError', 'UnknownProviderError', 'InvalidPhoneNumberError', 'NotFoundError']);
    expect(await count()).toBe(before);
  });

  it('a transaction that rolls back after recording takes its entry with it', async () => {
    const before = await count();
    await expect(
      t.database.prisma.$transaction(async (tx) => {
        await recordAudit(tx, { accountId: tenant.accountId, keyId: null, keyName: 'test' }, { action: 'settings.update', after: { x: 1 } });
        throw new Error('the change failed after its entry was written');
      }),
    ).rejects.toThrow('the change failed');
    expect(await count()).toBe(before);
  });
});

describe('append-only', () => {
  it('the database refuses UPDATE, DELETE and TRUNCATE of entries, whoever asks', async () => {
    const before = await count();
    expect(before).toBeGreaterThan(0);
    const prisma = t.database.prisma;
    await expect(prisma.$executeRawUnsafe(`UPDATE "AuditEntry" SET "keyName" = 'someone else'`)).rejects.toThrow(/append-only/);
    await expect(prisma.$executeRawUnsafe(`DELETE FROM "AuditEntry" WHERE "accountId" = '${tenant.accountId}'`)).rejects.toThrow(/append-only/);
    await expect(prisma.$executeRawUnsafe(`TRUNCATE "AuditEntry"`)).rejects.toThrow(/append-only/);
    // Prisma's own update and delete are refused just the same.
    await expect(prisma.auditEntry.updateMany({ data: { action: 'x' } })).rejects.toThrow();
    await expect(prisma.auditEntry.deleteMany({})).rejects.toThrow();
    expect(await count()).toBe(before);
    expect(await prisma.auditEntry.count({ where: { keyName: 'someone else' } })).toBe(0);
  });

  it('removing an account key touches no entry (no foreign key to cascade)', async () => {
    const other = await t.seedAccount();
    await mutate(other.admin, `mutation { addSensitiveWordRule(kind: BLOCK, word: "Initech") { __typename } }`);
    const keyId = await keyIdOf(other);
    await t.database.prisma.apiKey.delete({ where: { id: keyId } });
    const rows = await t.database.prisma.auditEntry.findMany({ where: { keyId } });
    expect(rows.map((r) => [r.action, r.keyName])).toEqual([['sensitiveWord.add', 'admin']]);
  });
});

describe('reading', () => {
  it('filters by action, action prefix, key, subject and time, and pages newest first', async () => {
    const acct = await t.seedAccount();
    const started = new Date();
    for (const word of ['one', 'two', 'three', 'four', 'five']) await mutate(acct.admin, `mutation { addSensitiveWordRule(kind: BLOCK, word: "${word}") { __typename } }`);
    await mutate(acct.admin, `mutation { removeSensitiveWordRule(kind: BLOCK, word: "two") { __typename } }`);

    expect((await log(acct.admin)).map((e) => e.after?.word ?? e.before?.words[0])).toEqual(['two', 'five', 'four', 'three', 'two', 'one']);
    expect(await log(acct.admin, { action: 'sensitiveWord.remove' })).toHaveLength(1);
    expect(await log(acct.admin, { action: 'sensitiveWord.' })).toHaveLength(6);
    expect(await log(acct.admin, { action: 'sensitiveWord' })).toHaveLength(0);
    expect(await log(acct.admin, { keyId: await keyIdOf(acct) })).toHaveLength(6);
    expect(await log(acct.admin, { keyId: await keyIdOf(acct, 'sender') })).toHaveLength(0);
    expect(await log(acct.admin, { subjectType: 'sensitiveWordRule', subjectId: 'BLOCK:three' })).toHaveLength(1);
    expect(await log(acct.admin, { from: started.toISOString() })).toHaveLength(6);
    expect(await log(acct.admin, { to: started.toISOString() })).toHaveLength(0);
    expect(await log(acct.admin, { from: new Date(Date.now() + 60_000).toISOString() })).toHaveLength(0);

    // Pages of two, following endCursor, give the same six in the same order.
    const seen: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 5; page++) {
      const { auditLog } = expectNoErrors(await acct.admin(AUDIT_LOG, { first: 2, after }));
      seen.push(...auditLog.edges.map((e: { node: Entry }) => e.node.id));
      if (!auditLog.pageInfo.hasNextPage) break;
      after = auditLog.pageInfo.endCursor;
    }
    expect(seen).toEqual((await log(acct.admin)).map((e) => e.id));
    expect(seen).toHaveLength(6);
    const bad = await acct.admin(AUDIT_LOG, { first: 2, after: 'nonsense' });
    expect(bad.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
  });

  it('exports the filtered log as CSV', async () => {
    const acct = await t.seedAccount();
    await mutate(acct.admin, `mutation { addSensitiveWordRule(kind: BLOCK, word: "say \\"hi\\", now") { __typename } }`);
    await mutate(acct.admin, `mutation { addOptOut(phone: "+8613800138123") { __typename } }`);
    const csv = expectNoErrors(await acct.admin(`query($f: AuditLogFilter) { exportAuditLog(filter: $f) }`, { f: {} })).exportAuditLog as string;
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe('seq,at,account_id,key_id,key_name,action,subject_type,subject_id,before,after,request_id');
    expect(lines).toHaveLength(4); // header, two entries, the empty string after the last line end
    expect(lines[1]).toContain(',admin,optOut.add,optOut,+86 138****8123,,');
    // A field with quotes and commas is quoted, its quotes doubled.
    expect(lines[2]).toContain(`"{""kind"":""BLOCK"",""word"":""say \\""hi\\"", now""}"`);
    expect(csv).not.toContain('13800138123');
    const filtered = expectNoErrors(await acct.admin(`query($f: AuditLogFilter) { exportAuditLog(filter: $f, limit: 5) }`, { f: { action: 'optOut.add' } })).exportAuditLog as string;
    expect(filtered.split('\r\n')).toHaveLength(3);
  });

  it('refuses a SENDER key, and shows an account none of another one\'s entries', async () => {
    const list = await tenant.sender(`{ auditLog { edges { node { id } } } }`);
    expect(list.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const csv = await tenant.sender(`{ exportAuditLog }`);
    expect(csv.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const stranger = await t.seedAccount();
    expect(await log(stranger.admin)).toEqual([]);
    expect(await log(stranger.admin, { phone: '+8613800138000' })).toEqual([]);
    const strangerCsv = expectNoErrors(await stranger.admin(`{ exportAuditLog }`)).exportAuditLog as string;
    expect(strangerCsv.split('\r\n').filter(Boolean)).toHaveLength(1);
    // The tenant's own view holds none of the operator's or the stranger's entries.
    expect(new Set((await log(tenant.admin)).map((e) => e.accountId))).toEqual(new Set([tenant.accountId]));
  });
});

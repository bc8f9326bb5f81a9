// Run-time configuration through GraphQL: a provider added and a routing set take effect on the
// next message without a restart; credentials are sealed and never readable back; every change
// is in the log with who made it; bad input is a typed error and changes nothing; only the
// operator account's ADMIN keys may change the deployment.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startDeliveryHerald, waitForStatus } from '../support/delivery.js';
import { expectNoErrors, type SeededAccount, type TestHerald } from '../support/herald.js';
import { SMSClient } from '../../src/client/index.js';

let t: TestHerald;
let operator: SeededAccount;
let tenant: SeededAccount;

beforeAll(async () => {
  // Dispatching: on PostgreSQL this Herald gets a database of its own, so the deployment-wide
  // configuration it changes is seen by no other test file.
  t = await startDeliveryHerald({ providers: ['simulator'] });
  operator = await t.seedAccount('default');
  tenant = await t.seedAccount();
});
afterAll(async () => {
  await t?.stop();
});

const CONFIGURATION = /* GraphQL */ `
  version
  providers { name kind source enabled settings credentialFields updatedAt }
  routing { source document problem }
`;

const RESULT = (field: string) => /* GraphQL */ `
  ${field} {
    __typename
    ... on ${field[0]!.toUpperCase()}${field.slice(1)}Success { data { ${CONFIGURATION} } }
    ... on Error { code message }
    ${field === 'resetRouting' ? '' : '... on ValidationError { issues { path message } }'}
    ${field === 'setRouting' ? '... on UnknownProviderError { providers }' : ''}
    ${field === 'removeProvider' ? '... on ProviderInUseError { provider }' : ''}
  }
`;

async function mutate(caller: SeededAccount['admin'], field: string, args: string, variables: Record<string, unknown> = {}) {
  const declared = Object.keys(variables).map((k) => `$${k}: ${k === 'input' ? (field === 'addProvider' ? 'AddProviderInput!' : 'UpdateProviderInput!') : k === 'document' ? 'JSON!' : 'String!'}`);
  const query = `mutation${declared.length ? `(${declared.join(', ')})` : ''} { ${RESULT(field).replace(field, `${field}${args}`)} }`;
  return expectNoErrors(await caller(query, variables))[field];
}

async function version(): Promise<number> {
  return expectNoErrors(await operator.admin(`{ configuration { version } }`)).configuration.version;
}

describe('run-time configuration', () => {
  it('starts from the environment: SMS_PROVIDERS and SMS_ROUTES, version 0', async () => {
    const { configuration } = expectNoErrors(await operator.admin(`{ configuration { ${CONFIGURATION} } }`));
    expect(configuration.version).toBe(0);
    expect(configuration.providers).toEqual([
      { name: 'simulator', kind: 'SIMULATOR', source: 'ENVIRONMENT', enabled: true, settings: { reportDelayMs: 50, reportBatchMs: 10 }, credentialFields: [], updatedAt: null },
    ]);
    expect(configuration.routing).toEqual({ source: 'ENVIRONMENT', document: {}, problem: null });
    // This server dispatches in its one process: the same version.
    expect(expectNoErrors(await operator.admin(`{ configuration { dispatchingVersion } }`)).configuration.dispatchingVersion).toBe(0);
  });

  it('a provider added and a routing set carry the next message, without a restart; resetRouting brings SMS_ROUTES back', async () => {
    const added = await mutate(operator.admin, 'addProvider', '(input: $input)', { input: { name: 'sim-b', kind: 'SIMULATOR', settings: { reportDelayMs: 20 } } });
    expect(added.__typename).toBe('AddProviderSuccess');
    expect(added.data.providers.map((p: { name: string; source: string }) => `${p.name}:${p.source}`)).toEqual(['simulator:ENVIRONMENT', 'sim-b:RUNTIME']);

    // Without a route the default order is SMS_PROVIDERS then the added ones: still the simulator.
    const before = await send(tenant.sender, { to: '+14155550100', body: 'before the route' });
    expect((await waitForStatus(tenant.sender, before.id, 'DELIVERED')).provider).toBe('simulator');

    const routed = await mutate(operator.admin, 'setRouting', '(document: $document)', { document: { routes: [{ name: 'all-to-b', providers: ['sim-b', 'simulator'] }] } });
    expect(routed.__typename).toBe('SetRoutingSuccess');
    expect(routed.data.routing).toMatchObject({ source: 'RUNTIME', document: { routes: [{ name: 'all-to-b' }] } });
    const after = await send(tenant.sender, { to: '+14155550101', body: 'after the route' });
    const afterDone = await waitForStatus(tenant.sender, after.id, 'DELIVERED');
    const why = expectNoErrors(await tenant.sender(`query($id: ID!) { message(id: $id) { routing { summary chosen explored candidates { provider } } events { status source provider errorCode rawStatus } } }`, { id: after.id }));
    expect(afterDone.provider, JSON.stringify(why)).toBe('sim-b');

    // Disabled: routing skips it (failover to the next in the route).
    const disabled = await mutate(operator.admin, 'updateProvider', '(name: "sim-b", input: $input)', { input: { enabled: false } });
    expect(disabled.data.providers.find((p: { name: string }) => p.name === 'sim-b').enabled).toBe(false);
    const skipped = await send(tenant.sender, { to: '+14155550102', body: 'b disabled' });
    expect((await waitForStatus(tenant.sender, skipped.id, 'DELIVERED')).provider).toBe('simulator');
    await mutate(operator.admin, 'updateProvider', '(name: "sim-b", input: $input)', { input: { enabled: true } });

    const reset = await mutate(operator.admin, 'resetRouting', '');
    expect(reset.data.routing.source).toBe('ENVIRONMENT');
    const last = await send(tenant.sender, { to: '+14155550103', body: 'after the reset' });
    expect((await waitForStatus(tenant.sender, last.id, 'DELIVERED')).provider).toBe('simulator');
  });

  it('credentials are sealed: never in an answer, the change log or the table in clear', async () => {
    const secret = 'tok_0123456789abcdef-secret';
    const added = await mutate(operator.admin, 'addProvider', '(input: $input)', {
      input: { name: 'twilio-eu', kind: 'TWILIO', settings: { from: '+15005550006' }, credentials: { accountSid: 'AC123', authToken: secret }, enabled: false },
    });
    expect(added.__typename).toBe('AddProviderSuccess');
    const twilio = added.data.providers.find((p: { name: string }) => p.name === 'twilio-eu');
    expect(twilio).toMatchObject({ kind: 'TWILIO', enabled: false, settings: { from: '+15005550006', apiBaseUrl: 'https://api.twilio.com' }, credentialFields: ['accountSid', 'authToken'] });
    // Settings changed alone keep the credentials.
    const changed = await mutate(operator.admin, 'updateProvider', '(name: "twilio-eu", input: $input)', { input: { settings: { from: '+15005550007' } } });
    expect(changed.__typename).toBe('UpdateProviderSuccess');

    const everything = JSON.stringify([
      expectNoErrors(await operator.admin(`{ configuration { ${CONFIGURATION} } }`)),
      expectNoErrors(await operator.admin(`{ configChanges { version keyId keyName subject action before after } }`)),
    ]);
    expect(everything).toContain('+15005550007');
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain('AC123');
    const row = await t.database.prisma.providerDefinition.findUniqueOrThrow({ where: { name: 'twilio-eu' } });
    expect(Buffer.from(row.sealedCredentials!).toString('latin1')).not.toContain(secret);
    expect(JSON.stringify(row.settings)).not.toContain(secret);
  });

  it('every change is logged with its version, key and before/after, newest first', async () => {
    const { configChanges } = expectNoErrors(await operator.admin(`{ configChanges(first: 100) { version keyName subject action before after } }`));
    expect(configChanges.length).toBeGreaterThanOrEqual(7);
    expect(configChanges.map((c: { version: number }) => c.version)).toEqual([...configChanges.map((c: { version: number }) => c.version)].sort((a, b) => b - a));
    expect(configChanges[0].version).toBe(await version());
    const actions = configChanges.map((c: { subject: string; action: string }) => `${c.subject} ${c.action}`).reverse();
    expect(actions.slice(0, 7)).toEqual([
      'provider:sim-b ADD',
      'routes SET',
      'provider:sim-b DISABLE',
      'provider:sim-b ENABLE',
      'routes RESET',
      'provider:twilio-eu ADD',
      'provider:twilio-eu UPDATE',
    ]);
    expect(configChanges.every((c: { keyName: string }) => c.keyName === 'admin')).toBe(true);
    const reset = configChanges.find((c: { action: string }) => c.action === 'RESET');
    expect(reset.before).toEqual({ routes: [{ name: 'all-to-b', providers: ['sim-b', 'simulator'] }] });
  });

  it('bad input is a typed error and changes nothing', async () => {
    const start = await version();
    const unknown = await mutate(operator.admin, 'setRouting', '(document: $document)', { document: { routes: [{ providers: ['nope', 'simulator'] }] } });
    expect(unknown).toMatchObject({ __typename: 'UnknownProviderError', code: 'UNKNOWN_PROVIDER', providers: ['nope'] });
    const invalid = await mutate(operator.admin, 'setRouting', '(document: $document)', { document: { routes: [{ providers: ['simulator'], strategy: 'WEIGHTED' }] } });
    expect(invalid.__typename).toBe('ValidationError');
    expect(invalid.issues[0].path).toEqual(['document', 'routes', '0']);
    const empty = await mutate(operator.admin, 'setRouting', '(document: $document)', { document: { routes: [{ providers: [] }] } });
    expect(empty.__typename).toBe('ValidationError');
    expect(empty.issues[0].path).toEqual(['document', 'routes', '0', 'providers']);
    const notObject = await mutate(operator.admin, 'setRouting', '(document: $document)', { document: [1, 2] });
    expect(notObject.__typename).toBe('ValidationError');

    const missing = await mutate(operator.admin, 'addProvider', '(input: $input)', { input: { name: 'ali', kind: 'ALIYUN', settings: {}, credentials: { accessKeyId: 'x' } } });
    expect(missing.__typename).toBe('ValidationError');
    expect(missing.issues.map((i: { path: string[] }) => i.path.join('.')).sort()).toEqual([
      'input.credentials.accessKeySecret',
      'input.credentials.callbackToken',
      'input.settings.signName',
    ]);
    const unknownField = await mutate(operator.admin, 'addProvider', '(input: $input)', { input: { name: 'sim-c', kind: 'SIMULATOR', settings: { colour: 'red' } } });
    expect(unknownField.issues[0].path).toEqual(['input', 'settings']);
    const badName = await mutate(operator.admin, 'addProvider', '(input: $input)', { input: { name: 'Bad Name', kind: 'SIMULATOR' } });
    expect(badName.issues[0].path).toEqual(['input', 'name']);
    const taken = await mutate(operator.admin, 'addProvider', '(input: $input)', { input: { name: 'simulator', kind: 'SIMULATOR' } });
    expect(taken.issues[0].path).toEqual(['input', 'name']);
    const notThere = await mutate(operator.admin, 'updateProvider', '(name: "ghost", input: $input)', { input: { enabled: false } });
    expect(notThere.code).toBe('NOT_FOUND');
    const fromEnvironment = await mutate(operator.admin, 'removeProvider', '(name: "simulator")');
    expect(fromEnvironment.__typename).toBe('ValidationError');

    // A provider the routing names cannot be removed.
    await mutate(operator.admin, 'setRouting', '(document: $document)', { document: { routes: [{ providers: ['sim-b'] }] } });
    const inUse = await mutate(operator.admin, 'removeProvider', '(name: "sim-b")');
    expect(inUse).toMatchObject({ __typename: 'ProviderInUseError', code: 'PROVIDER_IN_USE', provider: 'sim-b' });
    expect(await version()).toBe(start + 1);
    expect(expectNoErrors(await operator.admin(`{ configuration { providers { name } } }`)).configuration.providers.map((p: { name: string }) => p.name)).toContain('sim-b');
    await mutate(operator.admin, 'resetRouting', '');
    const removed = await mutate(operator.admin, 'removeProvider', '(name: "sim-b")');
    expect(removed.data.providers.map((p: { name: string }) => p.name)).not.toContain('sim-b');
  });

  it("only the operator account's ADMIN keys change the deployment; another tenant's ADMIN and any SENDER are refused", async () => {
    const start = await version();
    for (const caller of [tenant.admin, tenant.sender, operator.sender]) {
      const refused = await mutate(caller, 'setRouting', '(document: $document)', { document: { routes: [{ providers: ['simulator'] }] } });
      expect(refused).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
      const read = await caller(`{ configuration { version } }`);
      expect(read.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    expect((await mutate(tenant.admin, 'addProvider', '(input: $input)', { input: { name: 'evil', kind: 'SIMULATOR' } })).message).toContain('operator account');
    expect(await version()).toBe(start);
    // A tenant's ADMIN sees its own price changes only, never the deployment's.
    const { configChanges } = expectNoErrors(await tenant.admin(`{ configChanges { subject } }`));
    expect(configChanges.every((c: { subject: string }) => c.subject.startsWith('price:'))).toBe(true);
  });

  it('prices may name a provider added at run time', async () => {
    await mutate(operator.admin, 'addProvider', '(input: $input)', { input: { name: 'sim-p', kind: 'SIMULATOR' } });
    const priced = expectNoErrors(
      await tenant.admin(`mutation { setPrice(input: { provider: "sim-p", country: "US", currency: "USD", pricePerSegment: "0.01" }) { __typename ... on Error { message } } }`),
    );
    expect(priced.setPrice.__typename).toBe('SetPriceSuccess');
    // Versioned too: the tenant sees its own price change, the operator does not.
    const mine = expectNoErrors(await tenant.admin(`{ configChanges(subject: "price:") { subject action keyName after } }`)).configChanges;
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ action: 'SET', keyName: 'admin', after: { provider: 'sim-p', country: 'US', currency: 'USD', pricePerSegment: '0.01' } });
    const operators = expectNoErrors(await operator.admin(`{ configChanges(first: 500) { subject } }`)).configChanges;
    expect(operators.some((c: { subject: string }) => c.subject === mine[0].subject)).toBe(false);
  });

  it('the SDK wraps it: configuration, setRouting and its typed errors, configChanges', async () => {
    const client = new SMSClient({ url: t.url, apiKey: operator.adminKey });
    const before = await client.configuration();
    await expect(client.setRouting({ routes: [{ providers: ['missing'] }] })).rejects.toMatchObject({ code: 'UNKNOWN_PROVIDER', details: { providers: ['missing'] } });
    const set = await client.setRouting({ routes: [{ name: 'sdk', providers: ['simulator'] }] });
    expect(set.version).toBeGreaterThan(before.version);
    expect(set.routing).toMatchObject({ source: 'RUNTIME', document: { routes: [{ name: 'sdk' }] } });
    expect((await client.configChanges({ first: 1 }))[0]).toMatchObject({ version: set.version, subject: 'routes', action: 'SET' });
    expect((await client.resetRouting()).routing.source).toBe('ENVIRONMENT');
    await expect(new SMSClient({ url: t.url, apiKey: tenant.adminKey }).resetRouting()).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});

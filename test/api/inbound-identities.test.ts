// Sender identities (ADMIN only): normalisation, validation, one owner per value without saying
// which, defaults, removal, tenancy; and simulateInboundMessage's guards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoErrors, startTestHerald, type TestHerald } from '../support/herald.js';
import { mutate } from '../support/templates.js';
import { ADD_IDENTITY, addIdentity, LIST_IDENTITIES, numberPool, REMOVE_IDENTITY, SIMULATE_INBOUND } from './inbound-support.js';

let t: TestHerald;
const ourNumber = numberPool(5);
const handset = numberPool(6);

beforeAll(async () => {
  t = await startTestHerald();
});
afterAll(() => t?.stop());

const national = (e164: string) => `+1 (${e164.slice(2, 5)}) ${e164.slice(5, 8)}-${e164.slice(8)}`;

describe('sender identities', () => {
  it('normalises numbers to E.164, keeps alphanumeric ids as given, and lists them oldest first', async () => {
    const { admin } = await t.seedAccount();
    const number = ourNumber();
    const added = await addIdentity(admin, national(number));
    expect(added).toMatchObject({ value: number, kind: 'NUMBER', provider: null, isDefault: false });
    const alpha = await addIdentity(admin, ' Acme Shop ', { provider: 'simulator' });
    expect(alpha).toMatchObject({ value: 'Acme Shop', kind: 'ALPHANUMERIC', provider: 'simulator' });
    expect(expectNoErrors(await admin(LIST_IDENTITIES)).senderIdentities.map((i: any) => i.value)).toEqual([number, 'Acme Shop']);
  });

  it.each([['AB'], ['TWELVECHARSX'], ['Acme-Shop'], ['12345'], ['+1 555']])('refuses %j with a ValidationError on `value`', async (value) => {
    const { admin } = await t.seedAccount();
    const result = await mutate(admin, ADD_IDENTITY, { value });
    expect(result).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED', issues: [{ path: ['value'] }] });
  });

  it('refuses a provider that is not configured', async () => {
    const { admin } = await t.seedAccount();
    const result = await mutate(admin, ADD_IDENTITY, { value: ourNumber(), provider: 'twilio' });
    expect(result).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['provider'] }] });
  });

  it("refuses a value another account owns, in any format, without naming that account", async () => {
    const owner = await t.seedAccount(`owner-${Date.now()}`);
    const other = await t.seedAccount();
    const number = ourNumber();
    await addIdentity(owner.admin, number);
    await addIdentity(owner.admin, 'ACMEOWNER');
    for (const value of [number, national(number), 'ACMEOWNER']) {
      const result = await mutate(other.admin, ADD_IDENTITY, { value });
      expect(result).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED', issues: [{ path: ['value'] }] });
      expect(JSON.stringify(result)).not.toMatch(/owner-|acct-/);
    }
    expect(expectNoErrors(await other.admin(LIST_IDENTITIES)).senderIdentities).toEqual([]);
  });

  it('adding one the account has is idempotent; isDefault moves the default', async () => {
    const { admin } = await t.seedAccount();
    const [a, b] = [ourNumber(), ourNumber()];
    const first = await addIdentity(admin, a, { isDefault: true });
    expect((await addIdentity(admin, a)).id).toBe(first.id);
    await addIdentity(admin, b, { isDefault: true });
    const listed = expectNoErrors(await admin(LIST_IDENTITIES)).senderIdentities;
    expect(listed.map((i: any) => [i.value, i.isDefault])).toEqual([
      [a, false],
      [b, true],
    ]);
  });

  it('two accounts adding one value at once: one gets it, the other a ValidationError', async () => {
    const [x, y] = await Promise.all([t.seedAccount(), t.seedAccount()]);
    const number = ourNumber();
    const results = await Promise.all([x, y].map((account) => mutate(account.admin, ADD_IDENTITY, { value: number })));
    expect(results.map((r) => r.__typename).sort()).toEqual(['AddSenderIdentitySuccess', 'ValidationError']);
  });

  it('removes an identity of the account; another account\'s id or a bad id is NOT_FOUND', async () => {
    const owner = await t.seedAccount();
    const stranger = await t.seedAccount();
    const identity = await addIdentity(owner.admin, ourNumber());
    expect(await mutate(stranger.admin, REMOVE_IDENTITY, { id: identity.id })).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    expect(await mutate(owner.admin, REMOVE_IDENTITY, { id: 'nonsense' })).toMatchObject({ __typename: 'NotFoundError' });
    expect(await mutate(owner.admin, REMOVE_IDENTITY, { id: identity.id })).toEqual({ __typename: 'RemoveSenderIdentitySuccess', data: identity.id });
    expect(await mutate(owner.admin, REMOVE_IDENTITY, { id: identity.id })).toMatchObject({ __typename: 'NotFoundError' });
    expect(expectNoErrors(await owner.admin(LIST_IDENTITIES)).senderIdentities).toEqual([]);
    // The number is free again.
    await addIdentity(stranger.admin, identity.value);
  });

  it('node(id) finds an identity for its own account only', async () => {
    const owner = await t.seedAccount();
    const stranger = await t.seedAccount();
    const identity = await addIdentity(owner.admin, ourNumber());
    const query = `query($id: ID!) { node(id: $id) { ... on SenderIdentity { value } } }`;
    expect(expectNoErrors(await owner.admin(query, { id: identity.id })).node).toEqual({ value: identity.value });
    expect(expectNoErrors(await stranger.admin(query, { id: identity.id })).node).toBeNull();
  });

  it('is ADMIN only: a SENDER key gets FORBIDDEN from the mutations and an error from the list', async () => {
    const account = await t.seedAccount();
    const identity = await addIdentity(account.admin, ourNumber());
    expect(await mutate(account.sender, ADD_IDENTITY, { value: ourNumber() })).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
    expect(await mutate(account.sender, REMOVE_IDENTITY, { id: identity.id })).toMatchObject({ __typename: 'ForbiddenError' });
    const listed = await account.sender(LIST_IDENTITIES);
    expect(listed.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(listed.data?.senderIdentities ?? null).toBeNull();
  });
});

describe('simulateInboundMessage', () => {
  it('refuses a SENDER key, an unknown `to`, and a bad `from`', async () => {
    const account = await t.seedAccount();
    const number = ourNumber();
    await addIdentity(account.admin, number);
    expect(await mutate(account.sender, SIMULATE_INBOUND, { from: handset(), to: number, body: 'hi' })).toMatchObject({ __typename: 'ForbiddenError' });
    expect(await mutate(account.admin, SIMULATE_INBOUND, { from: handset(), to: ourNumber(), body: 'hi' })).toMatchObject({
      __typename: 'ValidationError',
      issues: [{ path: ['to'] }],
    });
    expect(await mutate(account.admin, SIMULATE_INBOUND, { from: 'nobody', to: number, body: 'hi' })).toMatchObject({
      __typename: 'InvalidPhoneNumberError',
      input: 'nobody',
    });
  });

  it('is FORBIDDEN while the simulator is not among the configured providers', async () => {
    const withoutSimulator = await startTestHerald({ providers: [] });
    try {
      const account = await withoutSimulator.seedAccount();
      const number = ourNumber();
      await addIdentity(account.admin, number);
      const result = await mutate(account.admin, SIMULATE_INBOUND, { from: handset(), to: number, body: 'hi' });
      expect(result).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
      expect(result.message).toMatch(/simulator/);
    } finally {
      await withoutSimulator.stop();
    }
  });
});

describe('sending from sender identities', () => {
  it('requires `from` to be one of the account identities once it has any, and uses the default identity when `from` is absent', async () => {
    const account = await t.seedAccount();
    const send = async (input: Record<string, unknown>) =>
      expectNoErrors(
        await account.sender(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { __typename ... on SendMessageSuccess { data { from } } ... on ValidationError { issues { path } } } }`, {
          input: { to: '+14155550100', body: 'hi', ...input },
        }),
      ).sendMessage;
    // No identities yet: any sender id is accepted as given.
    expect(await send({ from: 'ANYTHING' })).toMatchObject({ __typename: 'SendMessageSuccess', data: { from: 'ANYTHING' } });
    expectNoErrors(await account.admin(`mutation { addSenderIdentity(value: "+1 415 555 0199", isDefault: true) { __typename } }`));
    expect(await send({ from: 'ANYTHING' })).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['input', 'from'] }] });
    expect(await send({ from: '(415) 555-0199'.replace('(', '+1 (') })).toMatchObject({ data: { from: '+14155550199' } });
    expect(await send({})).toMatchObject({ data: { from: '+14155550199' } });
  });
});

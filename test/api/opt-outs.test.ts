// Opt-outs through the API: normalisation, listing, refusal of sends, the OTP exemption, tenancy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoErrors, startTestHerald, type GraphQLCaller, type TestHerald } from '../support/herald.js';
import { approvedTemplate, messageCount, mutate, send, setSettings } from '../support/templates.js';

let t: TestHerald;
beforeAll(async () => {
  t = await startTestHerald();
});
afterAll(() => t?.stop());

const ADD = /* GraphQL */ `
  mutation Add($phone: String!) {
    addOptOut(phone: $phone) {
      __typename
      ... on AddOptOutSuccess { data { phone source createdAt } }
      ... on Error { code message }
      ... on InvalidPhoneNumberError { input }
    }
  }
`;
const REMOVE = /* GraphQL */ `
  mutation Remove($phone: String!) {
    removeOptOut(phone: $phone) {
      __typename
      ... on RemoveOptOutSuccess { data }
      ... on Error { code message }
      ... on InvalidPhoneNumberError { input }
    }
  }
`;
const LIST = /* GraphQL */ `
  query List($first: Int, $after: String) {
    optOuts(first: $first, after: $after) { edges { cursor node { phone source } } pageInfo { hasNextPage endCursor } }
  }
`;

async function listed(caller: GraphQLCaller): Promise<string[]> {
  return expectNoErrors(await caller(LIST, { first: 100 })).optOuts.edges.map((e: any) => e.node.phone);
}

describe('opt-outs', () => {
  it('addOptOut normalises the number to E.164 and is idempotent', async () => {
    const { sender } = await t.seedAccount();
    const first = await mutate(sender, ADD, { phone: '+1 (415) 555-0100' });
    expect(first).toMatchObject({ __typename: 'AddOptOutSuccess', data: { phone: '+14155550100', source: 'API' } });
    const again = await mutate(sender, ADD, { phone: '+14155550100' });
    expect(again.data).toEqual(first.data);
    expect(await listed(sender)).toEqual(['+14155550100']);
  });

  it('stays idempotent when the same number is added concurrently', async () => {
    const { sender } = await t.seedAccount();
    const results = await Promise.all(['+14155550100', '+1 415 555 0100', '+1 (415) 555-0100', '+14155550100'].map((phone) => mutate(sender, ADD, { phone })));
    expect(results.map((r) => r.data?.phone)).toEqual(Array(4).fill('+14155550100'));
    expect(await listed(sender)).toEqual(['+14155550100']);
  });

  it('lists opt-outs newest first, page by page', async () => {
    const { sender } = await t.seedAccount();
    const phones = ['+14155550101', '+14155550102', '+8613800138000'];
    for (const phone of phones) {
      await mutate(sender, ADD, { phone });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(await listed(sender)).toEqual([...phones].reverse());

    const page1 = expectNoErrors(await sender(LIST, { first: 2 })).optOuts;
    expect(page1.edges.map((e: any) => e.node.phone)).toEqual(['+8613800138000', '+14155550102']);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = expectNoErrors(await sender(LIST, { first: 2, after: page1.pageInfo.endCursor })).optOuts;
    expect(page2.edges.map((e: any) => e.node.phone)).toEqual(['+14155550101']);
    expect(page2.pageInfo.hasNextPage).toBe(false);
  });

  it('refuses a send to an opted-out number (in any spelling) with RecipientOptedOutError and stores nothing', async () => {
    const { sender } = await t.seedAccount();
    await mutate(sender, ADD, { phone: '+1 (415) 555-0100' });
    for (const to of ['+14155550100', '+1 415-555-0100']) {
      expect(await send(sender, { to, body: 'Hello' })).toMatchObject({
        __typename: 'RecipientOptedOutError',
        code: 'RECIPIENT_OPTED_OUT',
        phone: '+14155550100',
      });
    }
    expect(await messageCount(sender)).toBe(0);
    expect((await send(sender, { to: '+14155550199', body: 'Hello' })).__typename).toBe('SendMessageSuccess');
  });

  it('lets an OTP template through to an opted-out number by default, not after otpBypassesOptOut: false', async () => {
    const account = await t.seedAccount();
    const otp = await approvedTemplate(account, 'Your code is {{code}}', 'OTP');
    const notice = await approvedTemplate(account, 'Your order {{order}} shipped', 'NOTIFICATION');
    const marketing = await approvedTemplate(account, 'Sale on {{item}}', 'MARKETING');
    await mutate(account.sender, ADD, { phone: '+14155550100' });
    const to = '+14155550100';

    expect(expectNoErrors(await account.sender(`{ accountSettings { otpBypassesOptOut } }`)).accountSettings.otpBypassesOptOut).toBe(true);
    const code = await send(account.sender, { to, templateId: otp, variables: { code: '123456' } });
    expect(code.data).toMatchObject({ body: 'Your code is 123456', category: 'OTP' });
    expect(await send(account.sender, { to, templateId: notice, variables: { order: 1 } })).toMatchObject({ code: 'RECIPIENT_OPTED_OUT' });
    expect(await send(account.sender, { to, templateId: marketing, variables: { item: 'hats' } })).toMatchObject({ code: 'RECIPIENT_OPTED_OUT' });

    expect(await setSettings(account.sender, { otpBypassesOptOut: false })).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
    const changed = await setSettings(account.admin, { otpBypassesOptOut: false });
    expect(changed.data.otpBypassesOptOut).toBe(false);
    expect(await send(account.sender, { to, templateId: otp, variables: { code: '654321' } })).toMatchObject({ code: 'RECIPIENT_OPTED_OUT', phone: to });

    await setSettings(account.admin, { otpBypassesOptOut: true });
    expect((await send(account.sender, { to, templateId: otp, variables: { code: '111111' } })).__typename).toBe('SendMessageSuccess');
    expect(await messageCount(account.sender)).toBe(2);
  });

  it('removeOptOut allows sending again; removing an unknown number is NotFoundError', async () => {
    const { sender } = await t.seedAccount();
    await mutate(sender, ADD, { phone: '+14155550100' });
    expect(await mutate(sender, REMOVE, { phone: '+1 (415) 555-0100' })).toEqual({ __typename: 'RemoveOptOutSuccess', data: '+14155550100' });
    expect(await listed(sender)).toEqual([]);
    expect((await send(sender, { to: '+14155550100', body: 'Welcome back' })).__typename).toBe('SendMessageSuccess');
    expect(await mutate(sender, REMOVE, { phone: '+14155550100' })).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
  });

  it('refuses an invalid number with InvalidPhoneNumberError on add and remove', async () => {
    const { sender } = await t.seedAccount();
    for (const phone of ['12345', 'not a phone', '']) {
      expect(await mutate(sender, ADD, { phone }), phone).toMatchObject({ __typename: 'InvalidPhoneNumberError', code: 'INVALID_PHONE_NUMBER', input: phone });
      expect(await mutate(sender, REMOVE, { phone }), phone).toMatchObject({ __typename: 'InvalidPhoneNumberError', code: 'INVALID_PHONE_NUMBER', input: phone });
    }
    expect(await listed(sender)).toEqual([]);
  });

  it('is per account: another account neither sees nor is held to the opt-out', async () => {
    const a = await t.seedAccount();
    const b = await t.seedAccount();
    await mutate(a.sender, ADD, { phone: '+14155550100' });
    expect(await listed(b.sender)).toEqual([]);
    expect((await send(b.sender, { to: '+14155550100', body: 'Hello from B' })).__typename).toBe('SendMessageSuccess');
    expect(await mutate(b.sender, REMOVE, { phone: '+14155550100' })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await send(a.sender, { to: '+14155550100', body: 'Hello from A' })).toMatchObject({ code: 'RECIPIENT_OPTED_OUT' });
    expect(await listed(a.sender)).toEqual(['+14155550100']);
  });
});

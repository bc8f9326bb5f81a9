// Keywords in replies: STOP and its synonyms (any case, full-width, Chinese) opt the sender out
// with source KEYWORD, START opts it in again, HELP is answered with the account's help text;
// configured confirmations go out from the receiving number, even to a number that just opted out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoErrors, type GraphQLCaller, type SeededAccount, type TestHerald } from '../support/herald.js';
import { startTestHerald } from '../support/herald.js';
import { send, setSettings } from '../support/templates.js';
import { addIdentity, inboundMessages, numberPool, postInbound } from './inbound-support.js';

let t: TestHerald;
const ourNumber = numberPool(3);
const handset = numberPool(4);

beforeAll(async () => {
  t = await startTestHerald();
});
afterAll(() => t?.stop());

async function accountWithNumber(): Promise<SeededAccount & { number: string }> {
  const account = await t.seedAccount();
  const number = ourNumber();
  await addIdentity(account.admin, number);
  return { ...account, number };
}

async function reply(account: { number: string }, from: string, body: string): Promise<void> {
  const response = await postInbound(t, { from, to: account.number, body, receivedAt: new Date().toISOString() });
  expect(response.json, JSON.stringify(response)).toMatchObject({ stored: 1 });
}

async function optOuts(caller: GraphQLCaller): Promise<{ phone: string; source: string }[]> {
  return expectNoErrors(await caller(`{ optOuts(first: 100) { edges { node { phone source } } } }`)).optOuts.edges.map((e: any) => e.node);
}

/** Messages the account sent to `to`, oldest first. */
async function sentTo(caller: GraphQLCaller, to: string): Promise<{ body: string; from: string | null; status: string }[]> {
  const data = expectNoErrors(await caller(`query($to: String) { messages(first: 100, filter: { to: $to }) { edges { node { body from status } } } }`, { to }));
  return data.messages.edges.map((e: any) => e.node).reverse();
}

describe('STOP and START', () => {
  it('STOP opts the sender out (source KEYWORD) so a send is RecipientOptedOutError; START allows it again', async () => {
    const account = await accountWithNumber();
    const phone = handset();
    expect((await send(account.sender, { to: phone, body: 'before' })).__typename).toBe('SendMessageSuccess');

    await reply(account, phone, 'STOP');
    expect(await optOuts(account.sender)).toEqual([{ phone, source: 'KEYWORD' }]);
    const [stop] = await inboundMessages(account.sender);
    expect(stop).toMatchObject({ body: 'STOP', keyword: 'STOP' });
    expect(await send(account.sender, { to: phone, body: 'after STOP' })).toMatchObject({
      __typename: 'RecipientOptedOutError',
      code: 'RECIPIENT_OPTED_OUT',
      phone,
    });

    await reply(account, phone, 'START');
    expect(await optOuts(account.sender)).toEqual([]);
    expect((await inboundMessages(account.sender))[0]).toMatchObject({ keyword: 'START' });
    expect((await send(account.sender, { to: phone, body: 'after START' })).__typename).toBe('SendMessageSuccess');
  });

  it.each([['ＳＴＯＰ'], [' stop '], ['退订'], ['取消'], ['Unsubscribe'], ['td'], ['T'], ['Stop.']])('%j opts out too', async (body) => {
    const account = await accountWithNumber();
    const phone = handset();
    await reply(account, phone, body);
    expect(await optOuts(account.sender)).toEqual([{ phone, source: 'KEYWORD' }]);
    expect((await send(account.sender, { to: phone, body: 'hello' })).__typename).toBe('RecipientOptedOutError');
  });

  it.each([['unstop'], ['ＹＥＳ'], [' start ']])('%j opts in again', async (body) => {
    const account = await accountWithNumber();
    const phone = handset();
    await reply(account, phone, 'stop');
    await reply(account, phone, body);
    expect(await optOuts(account.sender)).toEqual([]);
  });

  it('a sentence that contains STOP is a plain reply', async () => {
    const account = await accountWithNumber();
    const phone = handset();
    await reply(account, phone, 'please do not stop sending');
    expect(await optOuts(account.sender)).toEqual([]);
    expect((await inboundMessages(account.sender))[0].keyword).toBeNull();
  });

  it('a STOP delivered twice is applied once: a START in between stays in force', async () => {
    const account = await accountWithNumber();
    const phone = handset();
    const stop = { from: phone, to: account.number, body: 'STOP', providerMessageId: `sim_in_${Math.random()}` };
    await postInbound(t, stop);
    await reply(account, phone, 'START');
    expect((await postInbound(t, stop)).json).toMatchObject({ duplicates: 1 });
    expect(await optOuts(account.sender)).toEqual([]);
  });

  it("opts out of the receiving account only: another account's sends to the number still go", async () => {
    const account = await accountWithNumber();
    const other = await accountWithNumber();
    const phone = handset();
    await reply(account, phone, 'STOP');
    expect(await optOuts(other.sender)).toEqual([]);
    expect((await send(other.sender, { to: phone, body: 'still fine' })).__typename).toBe('SendMessageSuccess');
  });
});

describe('replies to keywords', () => {
  it('HELP is answered with the help text, from the number that received it', async () => {
    const account = await accountWithNumber();
    const phone = handset();
    await setSettings(account.admin, { helpText: 'Acme alerts. Reply STOP to opt out. Help: acme.example/help' });
    await reply(account, phone, 'help');
    expect(await sentTo(account.sender, phone)).toEqual([
      { body: 'Acme alerts. Reply STOP to opt out. Help: acme.example/help', from: account.number, status: 'QUEUED' },
    ]);
    expect((await inboundMessages(account.sender))[0].keyword).toBe('HELP');
  });

  it('sends nothing for a keyword whose reply is not configured', async () => {
    const account = await accountWithNumber();
    const phone = handset();
    await reply(account, phone, 'HELP');
    await reply(account, phone, 'STOP');
    await reply(account, phone, 'START');
    expect(await sentTo(account.sender, phone)).toEqual([]);
  });

  it('confirms STOP to the number that just opted out, and START once it is back in', async () => {
    const account = await accountWithNumber();
    const phone = handset();
    const settings = await setSettings(account.admin, { stopReply: 'You are unsubscribed. Reply START to resubscribe.', startReply: 'Welcome back.' });
    expect(settings).toMatchObject({ __typename: 'UpdateAccountSettingsSuccess' });
    await reply(account, phone, 'STOP');
    // The confirmation passed the opt-out list; an ordinary send still does not.
    expect(await sentTo(account.sender, phone)).toEqual([
      { body: 'You are unsubscribed. Reply START to resubscribe.', from: account.number, status: 'QUEUED' },
    ]);
    expect((await send(account.sender, { to: phone, body: 'promo' })).__typename).toBe('RecipientOptedOutError');
    await reply(account, phone, 'START');
    expect((await sentTo(account.sender, phone)).map((m) => m.body)).toEqual(['You are unsubscribed. Reply START to resubscribe.', 'Welcome back.']);
  });

  it('HELP is answered even to a number that opted out', async () => {
    const account = await accountWithNumber();
    const phone = handset();
    await setSettings(account.admin, { helpText: 'Acme help' });
    await reply(account, phone, 'STOP');
    await reply(account, phone, 'HELP');
    expect((await sentTo(account.sender, phone)).map((m) => m.body)).toEqual(['Acme help']);
  });

  it('keyword replies are read and cleared through accountSettings', async () => {
    const account = await accountWithNumber();
    const read = async () => expectNoErrors(await account.sender(`{ accountSettings { helpText stopReply startReply } }`)).accountSettings;
    expect(await read()).toEqual({ helpText: null, stopReply: null, startReply: null });
    await setSettings(account.admin, { helpText: ' Help text ', stopReply: 'Bye' });
    expect(await read()).toEqual({ helpText: 'Help text', stopReply: 'Bye', startReply: null });
    // Absent keeps a value; null or "" clears it.
    await setSettings(account.admin, { stopReply: '' });
    expect(await read()).toEqual({ helpText: 'Help text', stopReply: null, startReply: null });
    await setSettings(account.admin, { helpText: null });
    expect(await read()).toEqual({ helpText: null, stopReply: null, startReply: null });
    const tooLong = await setSettings(account.admin, { helpText: 'x'.repeat(1601) });
    expect(tooLong).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED' });
    const bySender = await setSettings(account.sender, { helpText: 'not allowed' });
    expect(bySender).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
  });
});

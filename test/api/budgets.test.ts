// Budgets per account: setting and listing them, bad input, sends refused over budget before
// anything is stored (sendMessage, sendMessages all or nothing, startVerification), racing sends
// that cannot overspend, no extra query for accounts without budgets, and the budget.threshold
// webhook event, once per threshold and period, POSTed to a real local endpoint.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeraldApiError, SMSClient } from '../../src/client/index.js';
import { startDeliveryHerald, waitFor } from '../support/delivery.js';
import { expectNoErrors, type GraphQLCaller, type SeededAccount, type TestHerald } from '../support/herald.js';
import { mutate, setSettings } from '../support/templates.js';
import { addIdentity, numberPool, postInbound } from './inbound-support.js';

let t: TestHerald;
let receiver: Server;
let receiverUrl: string;
const received: { path: string; body: any }[] = [];

beforeAll(async () => {
  // The webhook worker runs in the dispatching process; so does the simulator's delivery.
  t = await startDeliveryHerald({
    outgoingWebhooks: { retrySchedule: [50, 50], pollMs: 50, timeoutMs: 5_000, batchSize: 50, disableAfterFailures: 5, disableAfterMs: 3_600_000, allowPrivateUrls: true },
  });
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await t?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

const ERRORS = '... on Error { code message } ... on ValidationError { issues { path message } }';
const BUDGET_FIELDS = 'period limit { amount currency } spent { amount currency } uncountedMessages periodStart resetsAt';
const SET_BUDGET = `mutation($input: SetBudgetInput!) { setBudget(input: $input) { __typename ... on SetBudgetSuccess { data { ${BUDGET_FIELDS} } } ${ERRORS} } }`;
const REMOVE_BUDGET = `mutation($period: BudgetPeriod!) { removeBudget(period: $period) { __typename ... on RemoveBudgetSuccess { data } ... on Error { code message } } }`;
const BUDGETS = `{ budgets { ${BUDGET_FIELDS} } }`;
const SET_PRICE = `mutation($input: SetPriceInput!) { setPrice(input: $input) { __typename ${ERRORS} } }`;
const EXCEEDED = '... on BudgetExceededError { period spent { amount currency } limit { amount currency } requested { amount currency } resetsAt }';
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { __typename ... on SendMessageSuccess { data { id } } ${ERRORS} ${EXCEEDED} } }`;
const SEND_MANY = `mutation($input: SendMessagesInput!) { sendMessages(input: $input) { __typename
  ... on SendMessagesSuccess { batchId accepted { id } estimatedCost { amount currency } } ${ERRORS} ${EXCEEDED} } }`;
const START_VERIFICATION = `mutation($input: StartVerificationInput!) { startVerification(input: $input) { __typename ${ERRORS} ${EXCEEDED} } }`;
const CREATE_ENDPOINT = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { __typename ${ERRORS} } }`;

const US = '+14155550123';
// Blocks of numbers no other test file uses (sender identities are unique across accounts).
const ourNumber = numberPool(7);
const handset = numberPool(8);
const GB = '+447911123456';

/** An account whose simulator price to the US is `price` USD per segment (GB has no price). */
async function pricedAccount(price = '0.01'): Promise<SeededAccount> {
  const account = await t.seedAccount();
  expect((await mutate(account.admin, SET_PRICE, { input: { provider: 'simulator', country: 'US', currency: 'USD', pricePerSegment: price } })).__typename).toBe('SetPriceSuccess');
  return account;
}

async function setBudget(admin: GraphQLCaller, input: Record<string, unknown>) {
  const result = await mutate(admin, SET_BUDGET, { input });
  expect(result.__typename).toBe('SetBudgetSuccess');
  return result.data;
}

const sendTo = (caller: GraphQLCaller, to = US, body = 'hello') => mutate(caller, SEND, { input: { to, body } });
const budgets = async (admin: GraphQLCaller) => expectNoErrors(await admin<any>(BUDGETS)).budgets as any[];
const messageCount = (accountId: string) => t.database.prisma.message.count({ where: { accountId } });

describe('setBudget, budgets and removeBudget', () => {
  it('sets a daily and a monthly budget, lists them with the current periods, replaces and removes one', async () => {
    const { admin } = await pricedAccount();
    const daily = await setBudget(admin, { period: 'DAILY', limit: '12.50', currency: 'USD' });
    const now = new Date();
    const midnight = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
    expect(daily).toEqual({
      period: 'DAILY',
      limit: { amount: '12.5', currency: 'USD' },
      spent: { amount: '0', currency: 'USD' },
      uncountedMessages: 0,
      periodStart: midnight.toISOString(),
      resetsAt: new Date(midnight.getTime() + 86_400_000).toISOString(),
    });
    const monthly = await setBudget(admin, { period: 'MONTHLY', limit: '300', currency: 'EUR' });
    expect(monthly.periodStart).toBe(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString());
    expect(monthly.resetsAt).toBe(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString());
    await setBudget(admin, { period: 'DAILY', limit: '0.000001', currency: 'USD' });
    expect((await budgets(admin)).map((b) => `${b.period} ${b.limit.amount} ${b.limit.currency}`)).toEqual(['DAILY 0.000001 USD', 'MONTHLY 300 EUR']);
    expect(await mutate(admin, REMOVE_BUDGET, { period: 'MONTHLY' })).toEqual({ __typename: 'RemoveBudgetSuccess', data: 'MONTHLY' });
    expect(await mutate(admin, REMOVE_BUDGET, { period: 'MONTHLY' })).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    expect((await budgets(admin)).map((b) => b.period)).toEqual(['DAILY']);
  });

  it('refuses a negative, non-numeric or over-precise limit and an unknown currency with field paths, changing nothing', async () => {
    const { admin } = await pricedAccount();
    await setBudget(admin, { period: 'DAILY', limit: '5', currency: 'USD' });
    const cases: [Record<string, unknown>, string[][]][] = [
      [{ limit: '-1', currency: 'USD' }, [['input', 'limit']]],
      [{ limit: 'ten', currency: 'USD' }, [['input', 'limit']]],
      [{ limit: '1e3', currency: 'USD' }, [['input', 'limit']]],
      [{ limit: '0.0000001', currency: 'USD' }, [['input', 'limit']]],
      [{ limit: '5', currency: 'ABC' }, [['input', 'currency']]],
      [{ limit: '5', currency: 'usd' }, [['input', 'currency']]],
      [{ limit: '-5', currency: 'dollars' }, [['input', 'limit'], ['input', 'currency']]],
    ];
    for (const [input, paths] of cases) {
      const refused = await mutate(admin, SET_BUDGET, { input: { period: 'DAILY', ...input } });
      expect(refused.__typename, JSON.stringify(input)).toBe('ValidationError');
      expect(refused.code).toBe('VALIDATION_FAILED');
      expect(refused.issues.map((i: any) => i.path)).toEqual(paths);
    }
    expect((await budgets(admin)).map((b) => `${b.period} ${b.limit.amount} ${b.limit.currency}`)).toEqual(['DAILY 5 USD']);
  });

  it('works through the SDK, a refusal throwing HeraldApiError BUDGET_EXCEEDED with its details', async () => {
    const account = await pricedAccount('0.01');
    const admin = new SMSClient({ url: t.url, apiKey: account.adminKey });
    const sender = new SMSClient({ url: t.url, apiKey: account.senderKey });
    expect(await admin.setBudget({ period: 'MONTHLY', limit: '0.01', currency: 'USD' })).toMatchObject({ period: 'MONTHLY', limit: { amount: '0.01' } });
    await sender.sendSMS({ to: US, message: 'one' });
    const refused = await sender.sendSMS({ to: US, message: 'two' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(HeraldApiError);
    expect(refused).toMatchObject({ code: 'BUDGET_EXCEEDED', details: { type: 'BudgetExceededError', period: 'MONTHLY', spent: { amount: '0.01' } } });
    expect((await admin.budgets()).map((b) => b.spent.amount)).toEqual(['0.01']);
    await admin.removeBudget('MONTHLY');
    expect(await admin.budgets()).toEqual([]);
    await sender.sendSMS({ to: US, message: 'three' });
  });

  it("keeps one account's budgets from another", async () => {
    const a = await pricedAccount();
    const b = await pricedAccount();
    await setBudget(a.admin, { period: 'DAILY', limit: '0', currency: 'USD' });
    expect(await budgets(b.admin)).toEqual([]);
    expect((await sendTo(b.sender)).__typename).toBe('SendMessageSuccess');
    expect((await sendTo(a.sender)).__typename).toBe('BudgetExceededError');
  });
});

describe('sends over budget', () => {
  it('refuses the send that would pass the limit with what was spent, the limit and the reset, storing nothing', async () => {
    const { admin, sender, accountId } = await pricedAccount('0.01');
    await setBudget(admin, { period: 'DAILY', limit: '0.03', currency: 'USD' });
    for (let i = 0; i < 3; i++) expect((await sendTo(sender)).__typename).toBe('SendMessageSuccess');
    const before = await messageCount(accountId);
    const refused = await sendTo(sender);
    const now = new Date();
    expect(refused).toMatchObject({
      __typename: 'BudgetExceededError',
      code: 'BUDGET_EXCEEDED',
      period: 'DAILY',
      spent: { amount: '0.03', currency: 'USD' },
      limit: { amount: '0.03', currency: 'USD' },
      requested: { amount: '0.01', currency: 'USD' },
      resetsAt: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString(),
    });
    expect(await messageCount(accountId)).toBe(before);
    // A two-segment message costs two segments' price: 160 GSM characters and one more.
    await setBudget(admin, { period: 'DAILY', limit: '0.04', currency: 'USD' });
    expect(await sendTo(sender, US, 'x'.repeat(161))).toMatchObject({ __typename: 'BudgetExceededError', requested: { amount: '0.02' } });
    expect((await sendTo(sender)).__typename).toBe('SendMessageSuccess');
  });

  it('does not count a message without a known price or priced in another currency, and says how many', async () => {
    const { admin, sender } = await pricedAccount('0.01');
    await setBudget(admin, { period: 'DAILY', limit: '0.01', currency: 'USD' });
    await setBudget(admin, { period: 'MONTHLY', limit: '1', currency: 'EUR' });
    expect((await sendTo(sender, GB)).__typename).toBe('SendMessageSuccess'); // no GB price
    expect((await sendTo(sender, US)).__typename).toBe('SendMessageSuccess'); // USD: counts for DAILY only
    expect((await sendTo(sender, GB)).__typename).toBe('SendMessageSuccess');
    expect((await sendTo(sender, US)).__typename).toBe('BudgetExceededError');
    expect((await budgets(admin)).map((b) => `${b.period} ${b.spent.amount} ${b.spent.currency} uncounted ${b.uncountedMessages}`)).toEqual([
      'DAILY 0.01 USD uncounted 2',
      'MONTHLY 0 EUR uncounted 3',
    ]);
  });

  it('checks the monthly budget as well as the daily one', async () => {
    const { admin, sender } = await pricedAccount('0.01');
    await setBudget(admin, { period: 'DAILY', limit: '100', currency: 'USD' });
    await setBudget(admin, { period: 'MONTHLY', limit: '0.02', currency: 'USD' });
    expect((await sendTo(sender)).__typename).toBe('SendMessageSuccess');
    expect((await sendTo(sender)).__typename).toBe('SendMessageSuccess');
    expect(await sendTo(sender)).toMatchObject({ __typename: 'BudgetExceededError', period: 'MONTHLY' });
    // The refused send left the daily spend as it was: its charge rolled back with it.
    expect((await budgets(admin)).map((b) => b.spent.amount)).toEqual(['0.02', '0.02']);
  });

  it('refuses a whole sendMessages batch over budget, stores none of it, and accepts one that fits with its estimate', async () => {
    const { admin, sender, accountId } = await pricedAccount('0.01');
    await setBudget(admin, { period: 'DAILY', limit: '0.05', currency: 'USD' });
    const recipients = (n: number) => Array.from({ length: n }, (_, i) => ({ to: `+1415555${String(1000 + i)}` }));
    const tooMany = await mutate(sender, SEND_MANY, { input: { body: 'hi', recipients: [...recipients(6), { to: GB }] } });
    expect(tooMany).toMatchObject({ __typename: 'BudgetExceededError', spent: { amount: '0' }, requested: { amount: '0.06' } });
    expect(await messageCount(accountId)).toBe(0);
    expect(await t.database.prisma.batch.count({ where: { accountId } })).toBe(0);
    const fits = await mutate(sender, SEND_MANY, { input: { body: 'hi', recipients: [...recipients(5), { to: GB }], idempotencyKey: 'five' } });
    expect(fits.__typename).toBe('SendMessagesSuccess');
    expect(fits.accepted).toHaveLength(6);
    expect(fits.estimatedCost).toEqual([{ amount: '0.05', currency: 'USD' }]);
    // The idempotent replay charges nothing again.
    expect((await mutate(sender, SEND_MANY, { input: { body: 'hi', recipients: [...recipients(5), { to: GB }], idempotencyKey: 'five' } })).batchId).toBe(fits.batchId);
    expect((await budgets(admin))[0]).toMatchObject({ spent: { amount: '0.05' }, uncountedMessages: 1 });
    expect((await mutate(sender, SEND_MANY, { input: { body: 'hi', recipients: recipients(1) } })).__typename).toBe('BudgetExceededError');
  });

  it('charges a batch large enough to stream (over 1 000 recipients on PostgreSQL) in the same transaction', async () => {
    const { admin, sender, accountId } = await pricedAccount('0.01');
    await setBudget(admin, { period: 'DAILY', limit: '10.01', currency: 'USD' });
    const recipients = (n: number) => Array.from({ length: n }, (_, i) => ({ to: `+1415557${String(i).padStart(4, '0')}` }));
    expect(await mutate(sender, SEND_MANY, { input: { body: 'hi', recipients: recipients(1002) } })).toMatchObject({ __typename: 'BudgetExceededError', requested: { amount: '10.02' } });
    expect(await messageCount(accountId)).toBe(0);
    const fits = await mutate(sender, SEND_MANY, { input: { body: 'hi', recipients: recipients(1001) } });
    expect(fits).toMatchObject({ __typename: 'SendMessagesSuccess', estimatedCost: [{ amount: '10.01', currency: 'USD' }] });
    expect(await messageCount(accountId)).toBe(1001);
    expect((await budgets(admin))[0].spent.amount).toBe('10.01');
  });

  it('refuses a verification code over budget, leaving no pending verification', async () => {
    const { admin, sender, accountId } = await pricedAccount('0.01');
    await setBudget(admin, { period: 'DAILY', limit: '0', currency: 'USD' });
    expect(await mutate(sender, START_VERIFICATION, { input: { to: US } })).toMatchObject({ __typename: 'BudgetExceededError', code: 'BUDGET_EXCEEDED' });
    expect(await t.database.prisma.verification.count({ where: { accountId } })).toBe(0);
    expect(await messageCount(accountId)).toBe(0);
  });

  it('does not send a keyword reply over budget, while the keyword itself still applies', async () => {
    const { admin, sender, accountId } = await pricedAccount('0.01');
    const number = ourNumber();
    const phone = handset();
    await addIdentity(admin, number);
    await setSettings(admin, { helpText: 'Acme alerts. Reply STOP to opt out.' });
    await setBudget(admin, { period: 'DAILY', limit: '0.01', currency: 'USD' });
    const inbound = async (body: string) => {
      const response = await postInbound(t, { from: phone, to: number, body, receivedAt: new Date().toISOString() });
      expect(response.json, JSON.stringify(response)).toMatchObject({ stored: 1 });
    };
    await inbound('HELP');
    expect(await messageCount(accountId)).toBe(1); // the first reply fits
    await inbound('HELP');
    expect(await messageCount(accountId)).toBe(1); // the second would pass the limit: logged, not sent
    expect(await t.database.prisma.inboundMessage.count({ where: { accountId } })).toBe(2);
    expect((await budgets(admin))[0].spent.amount).toBe('0.01');
    expect((await sendTo(sender)).__typename).toBe('BudgetExceededError');
  });

  it('lets racing sends spend up to the limit and never past it', async () => {
    const { admin, sender, accountId } = await pricedAccount('0.01');
    await setBudget(admin, { period: 'DAILY', limit: '0.10', currency: 'USD' });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => sendTo(sender, `+1415556${String(1000 + i)}`)));
    const accepted = results.filter((r) => r.__typename === 'SendMessageSuccess');
    const refused = results.filter((r) => r.__typename === 'BudgetExceededError');
    expect(accepted.length + refused.length).toBe(40);
    // The spend row is locked and checked per send: exactly the limit's worth gets through.
    expect(accepted).toHaveLength(10);
    expect(await messageCount(accountId)).toBe(10);
    expect((await budgets(admin))[0].spent.amount).toBe('0.1');
  });

  it('costs an account without budgets no budget query per send', async () => {
    const { sender } = await pricedAccount('0.01');
    await sendTo(sender); // loads the (empty) budgets into memory
    t.queries.length = 0;
    for (let i = 0; i < 3; i++) expect((await sendTo(sender)).__typename).toBe('SendMessageSuccess');
    expect(t.queries.filter((q) => q.includes('"Budget'))).toEqual([]);
  });
});

describe('budget.threshold webhook events', () => {
  async function subscribedAccount(price: string, limit: string) {
    const account = await pricedAccount(price);
    const path = `/budget-${account.accountId}`;
    expect((await mutate(account.admin, CREATE_ENDPOINT, { input: { url: `${receiverUrl}${path}`, eventTypes: ['BUDGET_THRESHOLD'] } })).__typename).toBe('CreateWebhookEndpointSuccess');
    await setBudget(account.admin, { period: 'DAILY', limit, currency: 'USD' });
    const events = () => received.filter((r) => r.path === path).map((r) => r.body);
    return { ...account, events };
  }

  it('fires once at 80 % and once at 100 % of a period, with the spend, the limit and the reset', async () => {
    const { sender, events } = await subscribedAccount('0.01', '0.05');
    for (let i = 0; i < 3; i++) expect((await sendTo(sender)).__typename).toBe('SendMessageSuccess');
    expect((await sendTo(sender)).__typename).toBe('SendMessageSuccess'); // 0.04: 80 %
    await waitFor(() => events().length === 1, { what: 'the 80 % event' });
    expect((await sendTo(sender)).__typename).toBe('SendMessageSuccess'); // 0.05: 100 %
    expect((await sendTo(sender)).__typename).toBe('BudgetExceededError');
    await waitFor(() => events().length === 2, { what: 'the 100 % event' });
    await new Promise((resolve) => setTimeout(resolve, 300)); // nothing more comes
    const now = new Date();
    const resetsAt = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString();
    expect(events().map((e) => ({ type: e.type, ...e.data }))).toEqual([
      { type: 'budget.threshold', period: 'DAILY', threshold: 80, spent: { amount: '0.04', currency: 'USD' }, limit: { amount: '0.05', currency: 'USD' }, resetsAt },
      { type: 'budget.threshold', period: 'DAILY', threshold: 100, spent: { amount: '0.05', currency: 'USD' }, limit: { amount: '0.05', currency: 'USD' }, resetsAt },
    ]);
  });

  it('fires 100 % once when a send is refused short of the limit, and both at once when one send jumps past 80 % to 100 %', async () => {
    const short = await subscribedAccount('0.02', '0.05');
    expect((await sendTo(short.sender)).__typename).toBe('SendMessageSuccess'); // 0.02
    expect((await sendTo(short.sender)).__typename).toBe('SendMessageSuccess'); // 0.04: 80 %
    expect((await sendTo(short.sender)).__typename).toBe('BudgetExceededError');
    expect((await sendTo(short.sender)).__typename).toBe('BudgetExceededError');
    await waitFor(() => short.events().length === 2, { what: 'two events' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(short.events().map((e) => `${e.data.threshold} ${e.data.spent.amount}`)).toEqual(['80 0.04', '100 0.04']);

    const jump = await subscribedAccount('0.05', '0.05');
    expect((await sendTo(jump.sender)).__typename).toBe('SendMessageSuccess');
    await waitFor(() => jump.events().length === 2, { what: 'both events' });
    expect(jump.events().map((e) => e.data.threshold).sort((a: number, b: number) => a - b)).toEqual([80, 100]);
  });
});

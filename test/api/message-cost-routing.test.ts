// Cost and routing recorded on each message when a provider takes it: the estimated cost from the
// account's prices (exact decimals; unknown is null, never 0), and the routing decision with its
// candidates. LEAST_COST picks the cheapest provider meeting the route's floors from measured
// quality (seeded here into the shared quality table, as the flush loops of running instances
// would write it), and stops choosing a provider whose delivery rate falls under the floor.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startDeliveryHerald, waitForStatus } from '../support/delivery.js';
import { expectNoErrors, type GraphQLCaller, type TestHerald } from '../support/herald.js';
import { mutate } from '../support/templates.js';
import { startTwilioFake, type TwilioFake } from '../fakes/twilio-fake.js';

let t: TestHerald;
let twilio: TwilioFake;

beforeAll(async () => {
  twilio = await startTwilioFake({ reportDelayMs: 5 });
  t = await startDeliveryHerald({
    providers: ['simulator', 'twilio'],
    twilio: { accountSid: twilio.accountSid, authToken: twilio.authToken, from: '+15005550006', messagingServiceSid: undefined, apiBaseUrl: twilio.url },
    routes: JSON.stringify({
      routes: [
        { name: 'uk-cheapest', match: { countries: ['GB'] }, providers: ['twilio', 'simulator'], strategy: 'LEAST_COST', floors: { deliveryRate: 0.95 }, exploration: 0, minSamples: 10 },
      ],
    }),
    // Quality figures are read again at most this often.
    qualityFlushMs: 100,
  });
});
afterAll(async () => {
  await t?.stop();
  await twilio?.close();
});

const SET_PRICE = `mutation($input: SetPriceInput!) { setPrice(input: $input) { __typename ... on ValidationError { issues { path message } } } }`;
const COST = `query($id: ID!) { message(id: $id) { provider segments estimatedCost { amount currency }
  routing { route strategy summary explored chosen candidates { provider estimatedCost { amount currency } deliveryRate samples eligible reason } } } }`;

async function price(admin: GraphQLCaller, provider: string, country: string, pricePerSegment: string, currency = 'USD') {
  expect((await mutate(admin, SET_PRICE, { input: { provider, country, currency, pricePerSegment, effectiveFrom: '2026-01-01T00:00:00Z' } })).__typename).toBe('SetPriceSuccess');
}

async function sentAndCosted(caller: GraphQLCaller, to: string, body = 'cost test') {
  const sent = await send(caller, { to, body });
  await waitForStatus(caller, sent.id, 'DELIVERED', 10_000);
  return expectNoErrors(await caller(COST, { id: sent.id })).message;
}

/** What every instance's flush would have written: `delivered` and `failed` outcomes this minute. */
// Seeded figures replace each other in one minute's row. That minute is fixed once: a test that
// crossed a minute boundary between two seeds summed both rows (99/100 and 80/100 read as 89.5 %).
const SEEDED_MINUTE = new Date(Math.floor(Date.now() / 60_000) * 60_000);

async function seedQuality(provider: string, country: string, delivered: number, failed: number) {
  await t.database.prisma.$executeRaw`
    INSERT INTO "ProviderQualityMinute" (provider, country, minute, submitted, delivered, failed)
    VALUES (${provider}, ${country}, ${SEEDED_MINUTE}, ${delivered + failed}, ${delivered}, ${failed})
    ON CONFLICT (provider, country, minute) DO UPDATE SET submitted = EXCLUDED.submitted, delivered = EXCLUDED.delivered, failed = EXCLUDED.failed`;
  // The figures are read again after at most the read cache's time (qualityFlushMs above).
  await new Promise((resolve) => setTimeout(resolve, 300));
}

describe('cost and routing on each message', () => {
  it("records segments × the taking provider's price, exactly, and why it went there (no route: SMS_PROVIDERS order)", async () => {
    const { admin, sender } = await t.seedAccount();
    await price(admin, 'simulator', 'US', '0.0079');
    const message = await sentAndCosted(sender, '+14155550123', 'x'.repeat(200)); // GSM-7: 2 segments
    expect(message.segments).toBe(2);
    expect(message.estimatedCost).toEqual({ amount: '0.0158', currency: 'USD' });
    expect(message.routing).toMatchObject({ route: null, strategy: 'PRIORITY', explored: false, chosen: 'simulator', summary: 'PRIORITY: simulator; route order' });
    expect(message.routing.candidates.map((c: any) => [c.provider, c.estimatedCost])).toEqual([
      ['simulator', { amount: '0.0158', currency: 'USD' }],
      ['twilio', null],
    ]);
  });

  it('leaves the cost null, not 0, when no price is known, and an account never uses another account’s prices', async () => {
    const priced = await t.seedAccount();
    await price(priced.admin, 'simulator', 'US', '0.01');
    const other = await t.seedAccount();
    const message = await sentAndCosted(other.sender, '+14155550124');
    expect(message.estimatedCost).toBeNull();
    expect(message.routing.candidates[0]).toMatchObject({ provider: 'simulator', estimatedCost: null });
  });

  it('LEAST_COST sends to the cheapest provider meeting the floors, and away from it once its delivery rate falls below', async () => {
    const { admin, sender } = await t.seedAccount();
    await price(admin, 'twilio', 'GB', '0.04');
    await price(admin, 'simulator', 'GB', '0.03');
    await seedQuality('twilio', 'GB', 100, 0);
    await seedQuality('simulator', 'GB', 99, 1);
    const cheap = await sentAndCosted(sender, '+447400123456');
    expect(cheap.provider).toBe('simulator');
    expect(cheap.estimatedCost).toEqual({ amount: '0.03', currency: 'USD' });
    expect(cheap.routing).toMatchObject({ route: 'uk-cheapest', strategy: 'LEAST_COST', chosen: 'simulator', summary: 'LEAST_COST: simulator; cheapest meeting the floors (0.03 USD)' });
    expect(cheap.routing.candidates.map((c: any) => c.provider)).toEqual(['simulator', 'twilio']);

    await seedQuality('simulator', 'GB', 80, 20);
    const safe = await sentAndCosted(sender, '+447400123457');
    expect(safe.provider).toBe('twilio');
    expect(safe.estimatedCost).toEqual({ amount: '0.04', currency: 'USD' });
    const simulator = safe.routing.candidates.find((c: any) => c.provider === 'simulator');
    // The seeded figures, plus what the running Herald measured itself (the first message, delivered).
    expect(simulator).toMatchObject({ eligible: false, reason: expect.stringMatching(/^delivery rate 80\.\d % below the floor 95\.0 %$/) });
    expect(simulator.deliveryRate).toBeLessThan(0.81);
    expect(simulator.samples).toBeGreaterThanOrEqual(100);
  });

  it('sendMessages answers the estimated total of what it accepted, per currency, leaving out unknown prices and refused recipients', async () => {
    const SEND_MANY = `mutation($input: SendMessagesInput!) { sendMessages(input: $input) { __typename ... on SendMessagesSuccess { rejected { index } estimatedCost { amount currency } } } }`;
    const { admin, sender } = await t.seedAccount();
    await price(admin, 'simulator', 'US', '0.0079');
    await price(admin, 'simulator', 'CN', '0.045', 'CNY');
    const recipients = ['+14155550131', '+14155550132', '+14155550133', '+8613800138000', '+447400123458', 'not a number'].map((to) => ({ to }));
    const answer = expectNoErrors(await sender(SEND_MANY, { input: { body: 'batch cost', recipients } })).sendMessages;
    expect(answer.rejected.map((r: any) => r.index)).toEqual([5]);
    expect(answer.estimatedCost).toEqual(
      expect.arrayContaining([
        { amount: '0.0237', currency: 'USD' },
        { amount: '0.045', currency: 'CNY' },
      ]),
    );
    expect(answer.estimatedCost).toHaveLength(2);
    const unpriced = await t.seedAccount();
    expect(expectNoErrors(await unpriced.sender(SEND_MANY, { input: { body: 'batch cost', recipients: [{ to: '+14155550134' }] } })).sendMessages.estimatedCost).toEqual([]);
  });

  it("previewMessage shows each candidate's cost beside its measured quality in the destination's country", async () => {
    const { admin, sender } = await t.seedAccount();
    await price(admin, 'twilio', 'GB', '0.04');
    await seedQuality('twilio', 'GB', 100, 0);
    const PREVIEW = `query($input: PreviewInput!) { previewMessage(input: $input) { costs { provider estimatedCost currency deliveryRate samples } } }`;
    const costs = expectNoErrors(await sender(PREVIEW, { input: { body: 'preview', to: '+447400123459' } })).previewMessage.costs;
    expect(costs.map((c: any) => c.provider)).toEqual(['twilio', 'simulator']);
    expect(costs[0]).toMatchObject({ estimatedCost: '0.04', currency: 'USD', deliveryRate: 1 });
    expect(costs[0].samples).toBeGreaterThanOrEqual(100);
    expect(costs[1]).toMatchObject({ estimatedCost: null, currency: null });
  });

  it('records the cost and the reason when a sender identity binds the message to its provider', async () => {
    const { admin, sender } = await t.seedAccount();
    await price(admin, 'simulator', 'US', '0.0079');
    const added = await mutate(admin, `mutation { addSenderIdentity(value: "+1 415 555 0188", isDefault: true, provider: "simulator") { __typename } }`, {});
    expect(added.__typename).toBe('AddSenderIdentitySuccess');
    const message = await sentAndCosted(sender, '+14155550125');
    expect(message.estimatedCost).toEqual({ amount: '0.0079', currency: 'USD' });
    expect(message.routing).toMatchObject({ strategy: 'PRIORITY', chosen: 'simulator', summary: 'PRIORITY: simulator; the sender identity is provisioned there' });
    expect(message.routing.candidates).toHaveLength(1);
  });
});

// Message.actualCost: what the provider reported charging, fetched by the dispatching process after
// the final status (dispatch/actual-cost.ts). Twilio (its fake rates a message a while after its
// final status, as Twilio does) ends with its price, made positive and exact; a price not there
// yet and a failed fetch are asked again later, at most ACTUAL_COST_MAX_ATTEMPTS times; a provider
// without fetchCost (the simulator) is never asked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startDeliveryHerald, waitFor, waitForStatus } from '../support/delivery.js';
import { expectNoErrors, type GraphQLCaller, type TestHerald } from '../support/herald.js';
import { startTwilioFake, type TwilioFake } from '../fakes/twilio-fake.js';

let t: TestHerald;
let twilio: TwilioFake;
const MAX_ATTEMPTS = 4;
const RETRY_MS = 100;

beforeAll(async () => {
  twilio = await startTwilioFake({ reportDelayMs: 5 });
  t = await startDeliveryHerald({
    providers: ['twilio', 'simulator'],
    twilio: { accountSid: twilio.accountSid, authToken: twilio.authToken, from: '+15005550006', messagingServiceSid: undefined, apiBaseUrl: twilio.url },
    routes: JSON.stringify({ routes: [{ name: 'gb', match: { countries: ['GB'] }, providers: ['simulator'] }] }),
    // Waits between asks: 100, 300, 900 ms.
    actualCost: { pollMs: 50, windowMs: 3_600_000, retryMs: RETRY_MS, maxAttempts: MAX_ATTEMPTS },
  });
});
afterAll(async () => {
  await t?.stop();
  await twilio?.close();
});

const COST = `query($id: ID!) { message(id: $id) { status provider updatedAt estimatedCost { amount currency } actualCost { amount currency } } }`;

const costOf = async (caller: GraphQLCaller, id: string) => expectNoErrors(await caller(COST, { id })).message;

/** The GETs of one Twilio message so far (status polls and cost fetches). */
const fetchesOf = (sid: string) => twilio.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/Messages/${sid}.json`)).length;

const row = (providerMessageId: string) => t.database.prisma.message.findFirstOrThrow({ where: { providerMessageId } });

async function delivered(caller: GraphQLCaller, to: string) {
  const sent = await send(caller, { to, body: 'what did it cost' });
  const done = await waitForStatus(caller, sent.id, 'DELIVERED', 10_000);
  return { id: sent.id, sid: done.providerMessageId! };
}

async function costed(caller: GraphQLCaller, id: string) {
  return waitFor(async () => ((await costOf(caller, id)).actualCost ? costOf(caller, id) : undefined), { timeoutMs: 10_000, what: 'actual cost' });
}

describe('Message.actualCost', () => {
  it("ends with Twilio's price, positive and exact, asking again while Twilio has not rated it; writing it leaves updatedAt alone", async () => {
    twilio.setPricing({ price: '-0.00790', delayMs: 250 });
    const { sender } = await t.seedAccount();
    const { id, sid } = await delivered(sender, '+14155550171');
    const before = await costOf(sender, id);
    expect(before.actualCost).toBeNull();

    const after = await costed(sender, id);
    expect(after).toMatchObject({ status: 'DELIVERED', provider: 'twilio', actualCost: { amount: '0.0079', currency: 'USD' } });
    // Asked before the price was there (null), then again.
    expect(fetchesOf(sid)).toBeGreaterThanOrEqual(2);
    const stored = await row(sid);
    expect(stored).toMatchObject({ actualCostMicros: 7_900n, actualCostCurrency: 'USD' });
    expect(stored.actualCostAt!.getTime()).toBeGreaterThanOrEqual(stored.deliveredAt!.getTime());
    // The last status write came before the cost, and the cost write did not move updatedAt.
    expect(stored.updatedAt.getTime()).toBeLessThan(stored.actualCostAt!.getTime());

    // Once known, never asked again.
    const asked = fetchesOf(sid);
    await new Promise((resolve) => setTimeout(resolve, 4 * RETRY_MS));
    expect(fetchesOf(sid)).toBe(asked);
  });

  it('asks again after a failed fetch, and nothing else is held up meanwhile', async () => {
    twilio.setPricing({ price: '-0.0451', delayMs: 0 });
    twilio.failFetches(2);
    const { sender } = await t.seedAccount();
    const first = await delivered(sender, '+14155550172');
    // Sends and deliveries go on while the cost fetches fail.
    const second = await delivered(sender, '+14155550173');
    for (const { id } of [first, second]) expect((await costed(sender, id)).actualCost).toEqual({ amount: '0.0451', currency: 'USD' });
    // The two failures fell on one or both of them; each then had its answer on the next ask.
    const checks = (await row(first.sid)).actualCostChecks + (await row(second.sid)).actualCostChecks;
    expect(checks).toBe(4);
  });

  it('never asks about the messages of a provider without fetchCost (the simulator)', async () => {
    twilio.setPricing({ price: '-0.0079', delayMs: 0 });
    const { sender } = await t.seedAccount();
    const simulated = await delivered(sender, '+447400123456');
    expect((await costOf(sender, simulated.id)).provider).toBe('simulator');
    // A Twilio message costed after it shows the fetcher has made its passes meanwhile.
    const viaTwilio = await delivered(sender, '+14155550174');
    await costed(sender, viaTwilio.id);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await costOf(sender, simulated.id)).actualCost).toBeNull();
    expect(await row(simulated.sid)).toMatchObject({ actualCostChecks: 0, actualCostCheckedAt: null, actualCostMicros: null });
  });

  it(`stops asking after ${MAX_ATTEMPTS} attempts when Twilio never rates the message`, async () => {
    twilio.setPricing({ delayMs: null });
    const { sender } = await t.seedAccount();
    const { id, sid } = await delivered(sender, '+14155550175');
    await waitFor(() => fetchesOf(sid) >= MAX_ATTEMPTS, { timeoutMs: 10_000, what: `${MAX_ATTEMPTS} fetches` });
    // The next ask would have come 2.7 s after the last.
    await new Promise((resolve) => setTimeout(resolve, 3_200));
    expect(fetchesOf(sid)).toBe(MAX_ATTEMPTS);
    expect((await costOf(sender, id)).actualCost).toBeNull();
    expect(await row(sid)).toMatchObject({ actualCostChecks: MAX_ATTEMPTS, actualCostMicros: null, actualCostAt: null });
  });
});

// The actual cost providers report: reading an amount exactly (any sign, never a float), Twilio's
// price and price_unit, Twilio's fetchCost against the fake, and one pass of the fetcher over a
// store double (who is asked, what is written, what is asked again, what is given up).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActualCostFetcher, type ActualCostOptions } from '../../src/dispatch/actual-cost.js';
import { parseReportedAmount } from '../../src/domain/money.js';
import type { Logger } from '../../src/logging/logger.js';
import { TwilioProvider } from '../../src/providers/twilio/twilio.js';
import { twilioCost } from '../../src/providers/twilio/twilio-price.js';
import type { SentMessageRef, SmsProvider } from '../../src/providers/types.js';
import type { ActualCostStore, CostClaim, CostDueRow } from '../../src/store/actual-cost.js';
import { startTwilioFake, type TwilioFake } from '../fakes/twilio-fake.js';

describe('parseReportedAmount', () => {
  it.each([
    ['-0.00750', 7_500n],
    ['-0.0079', 7_900n],
    ['0.0079', 7_900n],
    ['+0.0079', 7_900n],
    ['-1', 1_000_000n],
    ['0', 0n],
    ['-0.0075000', 7_500n], // zeros past the sixth decimal are exact
    [' -12.5 ', 12_500_000n],
  ])('reads %j as %s micro-units of its magnitude', (text, micros) => {
    expect(parseReportedAmount(text)).toEqual({ ok: true, micros });
  });

  it.each(['', '-', 'abc', '0.00.1', '1e-3', '-0,0079', '--1', '0x10', 'NaN', '-.5', '1.'])('refuses %j', (text) => {
    expect(parseReportedAmount(text).ok).toBe(false);
  });

  it('refuses a digit past the sixth decimal rather than rounding it', () => {
    expect(parseReportedAmount('-0.0000001')).toEqual({ ok: false, message: expect.stringMatching(/7 decimal places/) });
  });

  it('refuses amounts past the largest one', () => {
    expect(parseReportedAmount('-1000000000').ok).toBe(false);
  });
});

describe('twilioCost', () => {
  it('is the magnitude of a negative price (a charge), exactly, in price_unit', () => {
    expect(twilioCost('-0.00790', 'USD')).toEqual({ micros: 7_900n, currency: 'USD' });
    expect(twilioCost('-0.0451', 'eur')).toEqual({ micros: 45_100n, currency: 'EUR' });
  });

  it('takes a positive price as it is, and a JSON number through its text', () => {
    expect(twilioCost('0.0079', 'USD')).toEqual({ micros: 7_900n, currency: 'USD' });
    expect(twilioCost(-0.0079, 'USD')).toEqual({ micros: 7_900n, currency: 'USD' });
  });

  it('is undefined while the message is not rated (null, absent or empty price)', () => {
    expect(twilioCost(null, 'USD')).toBeUndefined();
    expect(twilioCost(undefined, 'USD')).toBeUndefined();
    expect(twilioCost('', 'USD')).toBeUndefined();
  });

  it.each([
    ['garbage', 'USD', /not a decimal/],
    [{ amount: 1 }, 'USD', /not a decimal/],
    [1e-7, 'USD', /not a decimal/],
    [Number.NaN, 'USD', /not a decimal/],
    ['-0.0079', null, /price_unit/],
    ['-0.0079', 'dollars', /price_unit/],
    ['-0.0079', undefined, /price_unit/],
  ])('throws on price %j with unit %j', (price, unit, message) => {
    expect(() => twilioCost(price, unit)).toThrow(message);
  });
});

describe('TwilioProvider.fetchCost', () => {
  let fake: TwilioFake;
  afterEach(async () => fake?.close());

  const provider = () =>
    new TwilioProvider({ accountSid: fake.accountSid, authToken: fake.authToken, from: '+15005550006', messagingServiceSid: undefined, apiBaseUrl: fake.url, publicUrl: () => 'http://127.0.0.1:9', timeoutMs: 2_000 });

  async function sent(p: TwilioProvider): Promise<SentMessageRef> {
    const result = await p.send({ id: 'm-1', to: '+14155550100', body: 'hello', segments: 1, encoding: 'GSM7' });
    if (result.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(result)}`);
    return { id: 'm-1', to: '+14155550100', providerMessageId: result.providerMessageId, sentAt: new Date() };
  }

  it('is undefined until Twilio rates the message, then its price, exactly', async () => {
    fake = await startTwilioFake({ autoReports: false, pricing: { price: '-0.00790' } });
    const p = provider();
    const ref = await sent(p);
    expect(await p.fetchCost(ref)).toBeUndefined();
    fake.setMessageStatus(ref.providerMessageId, 'delivered');
    expect(await p.fetchCost(ref)).toEqual({ micros: 7_900n, currency: 'USD' });
  });

  it('throws when Twilio cannot answer or answers an unreadable price', async () => {
    fake = await startTwilioFake({ autoReports: false });
    const p = provider();
    const ref = await sent(p);
    fake.failFetches(1);
    await expect(p.fetchCost(ref)).rejects.toThrow(/HTTP 503/);
    fake.setPrice(ref.providerMessageId, 'free');
    await expect(p.fetchCost(ref)).rejects.toThrow(/not a decimal/);
    await expect(p.fetchCost({ ...ref, providerMessageId: 'SMnope' })).rejects.toThrow(/HTTP 404/);
  });
});

describe('the actual-cost fetcher, one pass', () => {
  const OPTIONS: ActualCostOptions = { pollMs: 0, windowMs: 3_600_000, retryMs: 1_000, maxAttempts: 3, batchSize: 10, concurrency: 2 };
  const row = (id: string, provider: string, checks = 1): CostDueRow => ({ id, to: '+14155550100', provider, providerMessageId: `P-${id}`, sentAt: new Date(0), checks });
  const logger = () => ({ warn: vi.fn(), error: vi.fn() }) as unknown as Logger & { warn: ReturnType<typeof vi.fn> };

  function storeWith(rows: CostDueRow[]) {
    const claims: CostClaim[] = [];
    const recorded: { id: string; cost: { micros: bigint; currency: string } }[][] = [];
    const givenUp: string[][] = [];
    const store: ActualCostStore = {
      claimDue: async (_at, claim) => {
        claims.push(claim);
        return rows.filter((r) => claim.providers.includes(r.provider)).slice(0, claim.limit);
      },
      record: async (_at, costs) => {
        recorded.push([...costs]);
        return costs.length;
      },
      giveUp: async (ids) => void givenUp.push([...ids]),
    };
    return { store, claims, recorded, givenUp };
  }

  const plain = (name: string): SmsProvider => ({ name, send: vi.fn(), verifyWebhook: () => true, parseStatusReport: () => [] });

  it('asks only providers that report a cost, never one without fetchCost, and sends no query when none does', async () => {
    const { store, claims } = storeWith([]);
    await createActualCostFetcher({ store: { actualCost: store }, providers: () => [plain('simulator'), plain('aliyun')], logger: logger(), options: OPTIONS }).runOnce();
    expect(claims).toEqual([]);

    const fetchCost = vi.fn(async () => ({ micros: 1n, currency: 'USD' }));
    const both = storeWith([row('a', 'twilio')]);
    const at = new Date('2026-12-03T12:00:00Z');
    await createActualCostFetcher({
      store: { actualCost: both.store },
      providers: () => [plain('simulator'), { ...plain('twilio'), fetchCost }],
      logger: logger(),
      options: OPTIONS,
      now: () => at,
    }).runOnce();
    expect(both.claims).toEqual([{ providers: ['twilio'], sentAfter: new Date(at.getTime() - 3_600_000), retryMs: 1_000, growth: 3, maxChecks: 3, limit: 10 }]);
  });

  it('writes what was reported, leaves the unrated and the failed to a later ask, and gives up on "never"', async () => {
    const answers: Record<string, () => Promise<unknown>> = {
      priced: async () => ({ micros: 7_900n, currency: 'USD' }),
      unrated: async () => undefined,
      broken: async () => {
        throw new Error('twilio: HTTP 503');
      },
      never: async () => null,
    };
    const { store, recorded, givenUp } = storeWith(Object.keys(answers).map((id) => row(id, 'twilio')));
    const log = logger();
    const fetchCost = vi.fn((ref: SentMessageRef) => answers[ref.id]!() as Promise<never>);
    const round = await createActualCostFetcher({ store: { actualCost: store }, providers: () => [{ ...plain('twilio'), fetchCost }], logger: log, options: OPTIONS }).runOnce();
    expect(round).toEqual({ asked: 4, recorded: 1, pending: 1, failed: 1, none: 1 });
    expect(fetchCost.mock.calls.map(([ref]) => ref)).toContainEqual({ id: 'priced', to: '+14155550100', providerMessageId: 'P-priced', sentAt: new Date(0) });
    expect(recorded).toEqual([[{ id: 'priced', cost: { micros: 7_900n, currency: 'USD' } }]]);
    expect(givenUp).toEqual([['never']]);
    expect(log.warn).toHaveBeenCalledWith(expect.objectContaining({ messageId: 'broken', provider: 'twilio' }), 'actual cost query failed; asking again later');
  });

  it('keeps at most `concurrency` provider calls in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const fetchCost = vi.fn(async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return undefined;
    });
    const { store } = storeWith(Array.from({ length: 9 }, (_, i) => row(`m${i}`, 'twilio')));
    const round = await createActualCostFetcher({ store: { actualCost: store }, providers: () => [{ ...plain('twilio'), fetchCost }], logger: logger(), options: OPTIONS }).runOnce();
    expect(round.asked).toBe(9);
    expect(most).toBe(2);
  });
});

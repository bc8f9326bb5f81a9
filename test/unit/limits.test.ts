import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimitedError } from '../../src/domain/errors.js';
import { createLimiter, type Limiter, type LimiterOptions, type SendToCheck } from '../../src/limits/limiter.js';
import { defaultLimitPolicy, resolveLimitPolicy, type LimitPolicy, type LimitPolicyOverrides } from '../../src/limits/policy.js';

// rate-limiter-flexible reads Date.now(); only Date is faked, so the library's (unref'd)
// cleanup timers stay real and never fire within a test: a window past its end must be reset
// on its next use by comparing with the clock, which is what these tests exercise.
const t0 = Date.parse('2026-03-02T09:00:00.000Z');
const at = (seconds: number) => vi.setSystemTime(t0 + seconds * 1000);

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'], now: t0 });
});
afterEach(() => {
  vi.useRealTimers();
});

const limiters: Limiter[] = [];
afterEach(async () => {
  await Promise.all(limiters.splice(0).map((l) => l.close()));
});

function limiterWith(options: LimiterOptions = {}): Limiter {
  const limiter = createLimiter(options);
  limiters.push(limiter);
  return limiter;
}

/** A limiter where some accounts have overrides and the rest the defaults. */
function limiterWithPolicies(overrides: Record<string, LimitPolicyOverrides>): Limiter {
  const policies = new Map(Object.entries(overrides).map(([id, o]) => [id, resolveLimitPolicy(o)]));
  return limiterWith({ policyFor: (accountId) => policies.get(accountId) ?? defaultLimitPolicy });
}

const otp = (recipient: string): SendToCheck => ({ recipient, category: 'OTP' });
const note = (recipient: string): SendToCheck => ({ recipient, category: 'NOTIFICATION' });

function expectRefused(result: RateLimitedError | undefined, retryAfterSeconds: number) {
  expect(result).toBeInstanceOf(RateLimitedError);
  expect(result?.code).toBe('RATE_LIMITED');
  expect(result?.retryAfterSeconds).toBe(retryAfterSeconds);
}

describe('per recipient (OTP defaults: 1/min, 5/h, 10/day; 10/day over all categories)', () => {
  it('refuses a second OTP within the minute, with retryAfterSeconds counting down from 60', async () => {
    const limiter = limiterWith();
    expect(await limiter.checkSend('acct', otp('+8613800138000'))).toBeUndefined();

    const refused = await limiter.checkSend('acct', otp('+8613800138000'));
    expectRefused(refused, 60);
    expect(refused?.message).toBe('at most 1 OTP messages per 60 s to one recipient; retry after 60 s');

    at(15);
    expectRefused(await limiter.checkSend('acct', otp('+8613800138000')), 45);
    at(59.001);
    expectRefused(await limiter.checkSend('acct', otp('+8613800138000')), 1);
    at(60);
    expect(await limiter.checkSend('acct', otp('+8613800138000'))).toBeUndefined();
  });

  it('allows 5 OTPs an hour, a minute apart, then refuses until the hour has passed', async () => {
    const limiter = limiterWith();
    for (let minute = 0; minute < 5; minute++) {
      at(minute * 60);
      expect(await limiter.checkSend('acct', otp('+15551230001'))).toBeUndefined();
    }
    at(300);
    expectRefused(await limiter.checkSend('acct', otp('+15551230001')), 3600 - 300);
    at(3599);
    expectRefused(await limiter.checkSend('acct', otp('+15551230001')), 1);
    at(3600);
    expect(await limiter.checkSend('acct', otp('+15551230001'))).toBeUndefined();
  });

  it('allows 10 OTPs a day, then refuses until 24 h after the first', async () => {
    const limiter = limiterWith();
    for (const hour of [0, 1]) {
      for (let minute = 0; minute < 5; minute++) {
        at(hour * 3600 + minute * 60);
        expect(await limiter.checkSend('acct', otp('+15551230002'))).toBeUndefined();
      }
    }
    at(2 * 3600);
    expectRefused(await limiter.checkSend('acct', otp('+15551230002')), 86_400 - 2 * 3600);
    at(86_400);
    expect(await limiter.checkSend('acct', otp('+15551230002'))).toBeUndefined();
  });

  it('answers with the longest wait when several windows refuse', async () => {
    const limiter = limiterWith();
    for (const hour of [0, 1]) {
      for (let minute = 0; minute < 5; minute++) {
        at(hour * 3600 + minute * 60);
        await limiter.checkSend('acct', otp('+15551230003'));
      }
    }
    // Minute (50 s left), hour (3350 s) and day (82 550 s) all refuse.
    at(3600 + 250);
    expectRefused(await limiter.checkSend('acct', otp('+15551230003')), 86_400 - 3850);
  });

  it('counts categories apart, and a plain body as NOTIFICATION', async () => {
    const limiter = limiterWithPolicies({ acct: { recipientTotal: [] } });
    expect(await limiter.checkSend('acct', otp('+15551230004'))).toBeUndefined();
    expect(await limiter.checkSend('acct', note('+15551230004'))).toBeUndefined();
    expect(await limiter.checkSend('acct', { recipient: '+15551230004', category: 'MARKETING' })).toBeUndefined();
    expectRefused(await limiter.checkSend('acct', { recipient: '+15551230004', category: 'MARKETING' }), 86_400);

    // NOTIFICATION: 3 a minute; one is used above, and plain bodies take the same counter.
    expect(await limiter.checkSend('acct', { recipient: '+15551230004', category: null })).toBeUndefined();
    expect(await limiter.checkSend('acct', { recipient: '+15551230004' })).toBeUndefined();
    const refused = await limiter.checkSend('acct', { recipient: '+15551230004' });
    expectRefused(refused, 60);
    expect(refused?.message).toBe('at most 3 NOTIFICATION messages per 60 s to one recipient; retry after 60 s');
    expectRefused(await limiter.checkSend('acct', note('+15551230004')), 60);
  });

  it('holds a recipient to 10 messages a day over every category together', async () => {
    const limiter = limiterWith();
    const sends: SendToCheck[] = [otp('+15551230007'), { recipient: '+15551230007', category: 'MARKETING' }];
    for (let i = 0; i < 4; i++) sends.push(otp('+15551230007'), note('+15551230007'));
    for (const [i, send] of sends.entries()) {
      at(i * 3600);
      expect(await limiter.checkSend('acct', send)).toBeUndefined();
    }
    at(10 * 3600);
    const refused = await limiter.checkSend('acct', note('+15551230007'));
    expectRefused(refused, 86_400 - 10 * 3600);
    expect(refused?.message).toBe('at most 10 messages per 86400 s to one recipient; retry after 50400 s');
    // Another account's messages to the same number are its own business.
    expect(await limiter.checkSend('other', note('+15551230007'))).toBeUndefined();
  });

  it('counts a send of several messages as that many, and refuses it whole when they do not all fit', async () => {
    const limiter = limiterWithPolicies({ acct: { recipient: { NOTIFICATION: [{ max: 10, perSeconds: 60 }] }, recipientTotal: [] } });
    expect(await limiter.checkSend('acct', { ...note('+15551230005'), count: 8 })).toBeUndefined();
    expectRefused(await limiter.checkSend('acct', { ...note('+15551230005'), count: 3 }), 60);
    // The refused 3 were taken back: 2 still fit.
    expect(await limiter.checkSend('acct', { ...note('+15551230005'), count: 2 })).toBeUndefined();
    expectRefused(await limiter.checkSend('acct', note('+15551230005')), 60);
  });

  it('does not count a send exempt from recipient limits against them', async () => {
    const limiter = limiterWith();
    expect(await limiter.checkSend('acct', otp('+15551230006'))).toBeUndefined();
    expect(await limiter.checkSend('acct', { ...otp('+15551230006'), exempt: { recipient: true } })).toBeUndefined();
    expectRefused(await limiter.checkSend('acct', otp('+15551230006')), 60);
  });
});

describe('per API key request rate (default 50/s plus a burst of 100 per 10 s)', () => {
  it('allows 150 requests in one second, then refuses until the second is over', async () => {
    const limiter = limiterWith();
    for (let i = 0; i < 150; i++) expect(await limiter.consumeRequest('key-1', 'acct')).toBeUndefined();
    const refused = await limiter.consumeRequest('key-1', 'acct');
    expectRefused(refused, 1);
    expect(refused?.message).toMatch(/50 requests per 1 s for this API key, plus a burst of 100 per 10 s/);

    // The next second: 50 more from the sustained rate, the burst pool is spent until t0+10s.
    at(1);
    for (let i = 0; i < 50; i++) expect(await limiter.consumeRequest('key-1', 'acct')).toBeUndefined();
    expectRefused(await limiter.consumeRequest('key-1', 'acct'), 1);
    // Another key of the same account has its own counters.
    expect(await limiter.consumeRequest('key-2', 'acct')).toBeUndefined();
  });

  it('without a burst, refuses past the rate with the rest of the window', async () => {
    const limiter = limiterWithPolicies({ acct: { requests: { max: 3, perSeconds: 10, burst: null } } });
    for (let i = 0; i < 3; i++) expect(await limiter.consumeRequest('key', 'acct')).toBeUndefined();
    expectRefused(await limiter.consumeRequest('key', 'acct'), 10);
    at(2.5);
    expectRefused(await limiter.consumeRequest('key', 'acct'), 8);
    at(10);
    expect(await limiter.consumeRequest('key', 'acct')).toBeUndefined();
  });

  it('waits for whichever pool refills first', async () => {
    const limiter = limiterWithPolicies({ acct: { requests: { max: 2, perSeconds: 60, burst: { max: 1, perSeconds: 5 } } } });
    for (let i = 0; i < 3; i++) expect(await limiter.consumeRequest('key', 'acct')).toBeUndefined();
    expectRefused(await limiter.consumeRequest('key', 'acct'), 5);
    at(5);
    expect(await limiter.consumeRequest('key', 'acct')).toBeUndefined();
    at(7);
    expectRefused(await limiter.consumeRequest('key', 'acct'), 3);
  });
});

describe('per account quota (default 100 000 a day)', () => {
  it('refuses sends past the quota until the day after the first', async () => {
    const limiter = limiterWithPolicies({ acct: { accountQuota: [{ max: 3, perSeconds: 86_400 }] } });
    for (const n of [1, 2, 3]) expect(await limiter.checkSend('acct', note(`+1555000000${n}`))).toBeUndefined();
    at(3600);
    const refused = await limiter.checkSend('acct', note('+15550000004'));
    expectRefused(refused, 86_400 - 3600);
    expect(refused?.message).toBe('account quota of 3 messages per 86400 s reached; retry after 82800 s');
    at(86_400);
    expect(await limiter.checkSend('acct', note('+15550000004'))).toBeUndefined();
  });

  it('does not count a send exempt from the quota', async () => {
    const limiter = limiterWithPolicies({ acct: { accountQuota: [{ max: 1, perSeconds: 60 }] } });
    expect(await limiter.checkSend('acct', { ...note('+15550000011'), exempt: { quota: true } })).toBeUndefined();
    expect(await limiter.checkSend('acct', note('+15550000012'))).toBeUndefined();
    expectRefused(await limiter.checkSend('acct', note('+15550000013')), 60);
  });
});

describe('refunds: a refused send counts nowhere', () => {
  it('a send refused for its recipient leaves the quota untouched', async () => {
    const limiter = limiterWithPolicies({ acct: { accountQuota: [{ max: 2, perSeconds: 86_400 }] } });
    expect(await limiter.checkSend('acct', otp('+15550000021'))).toBeUndefined();
    expectRefused(await limiter.checkSend('acct', otp('+15550000021')), 60);
    expectRefused(await limiter.checkSend('acct', otp('+15550000021')), 60);
    // Without the refunds, the quota of 2 would be spent by now.
    expect(await limiter.checkSend('acct', otp('+15550000022'))).toBeUndefined();
    expectRefused(await limiter.checkSend('acct', otp('+15550000023')), 86_400);
  });

  it('a send refused for the quota gives its recipient windows back', async () => {
    const policies = new Map<string, LimitPolicy>([['acct', resolveLimitPolicy({ accountQuota: [{ max: 1, perSeconds: 86_400 }] })]]);
    const limiter = limiterWith({ policyFor: (id) => policies.get(id)! });
    expect(await limiter.checkSend('acct', otp('+15550000031'))).toBeUndefined();
    expectRefused(await limiter.checkSend('acct', otp('+15550000032')), 86_400);

    // The account gets more quota: +15550000032 must not be held to a minute it never used.
    policies.set('acct', resolveLimitPolicy({ accountQuota: [{ max: 10, perSeconds: 86_400 }] }));
    expect(await limiter.checkSend('acct', otp('+15550000032'))).toBeUndefined();
  });

  it('a send refused by one window gives back what it added to the others', async () => {
    const limiter = limiterWith();
    for (let minute = 0; minute < 5; minute++) {
      at(minute * 60);
      expect(await limiter.checkSend('acct', otp('+15550000041'))).toBeUndefined();
    }
    // Refused by the hour at minutes 5 to 59; had the minute and day windows kept those
    // attempts, the day's 10 would be spent long before the second hour.
    for (let minute = 5; minute < 60; minute++) {
      at(minute * 60);
      expectRefused(await limiter.checkSend('acct', otp('+15550000041')), 3600 - minute * 60);
    }
    for (let minute = 60; minute < 65; minute++) {
      at(minute * 60);
      expect(await limiter.checkSend('acct', otp('+15550000041'))).toBeUndefined();
    }
  });
});

describe('tenancy and per-account policies', () => {
  it('two accounts never share a counter', async () => {
    const limiter = limiterWithPolicies({
      a: { accountQuota: [{ max: 1, perSeconds: 60 }], requests: { max: 1, perSeconds: 1, burst: null } },
      b: { accountQuota: [{ max: 1, perSeconds: 60 }], requests: { max: 1, perSeconds: 1, burst: null } },
    });
    expect(await limiter.checkSend('a', otp('+15550000051'))).toBeUndefined();
    expect(await limiter.checkSend('b', otp('+15550000051'))).toBeUndefined();
    expectRefused(await limiter.checkSend('a', otp('+15550000052')), 60);
    expectRefused(await limiter.checkSend('b', otp('+15550000052')), 60);

    // The same API key id under two accounts (it can't be, but keys are namespaced anyway).
    expect(await limiter.consumeRequest('key', 'a')).toBeUndefined();
    expect(await limiter.consumeRequest('key', 'b')).toBeUndefined();
    expectRefused(await limiter.consumeRequest('key', 'a'), 1);
  });

  it('an id containing ":" cannot reach another account\'s counters', async () => {
    const limiter = limiterWith();
    // Unescaped, both would be "acct:a:rcpt:OTP:60s:x:rcpt:OTP:60s:+1".
    expect(await limiter.checkSend('a', otp('x:rcpt:OTP:60s:+1'))).toBeUndefined();
    expect(await limiter.checkSend('a:rcpt:OTP:60s:x', otp('+1'))).toBeUndefined();
  });

  it('applies each account\'s own overrides from policyFor', async () => {
    const limiter = limiterWithPolicies({
      strict: { recipient: { OTP: [{ max: 1, perSeconds: 3600 }] } },
      lenient: { recipient: { OTP: [] }, recipientTotal: [], plainBodyCategory: 'MARKETING' },
    });
    expect(await limiter.checkSend('strict', otp('+15550000061'))).toBeUndefined();
    expectRefused(await limiter.checkSend('strict', otp('+15550000061')), 3600);

    for (let i = 0; i < 20; i++) expect(await limiter.checkSend('lenient', otp('+15550000061'))).toBeUndefined();
    expect(await limiter.checkSend('lenient', { recipient: '+15550000061' })).toBeUndefined();
    expectRefused(await limiter.checkSend('lenient', { recipient: '+15550000061' }), 86_400);

    expect(await limiter.checkSend('default', otp('+15550000061'))).toBeUndefined();
    expectRefused(await limiter.checkSend('default', otp('+15550000061')), 60);
  });

  it('accepts an async policyFor, as a database-backed one is', async () => {
    const limiter = limiterWith({ policyFor: async () => resolveLimitPolicy({ recipient: { OTP: [{ max: 2, perSeconds: 60 }] } }) });
    expect(await limiter.checkSend('acct', otp('+15550000062'))).toBeUndefined();
    expect(await limiter.checkSend('acct', otp('+15550000062'))).toBeUndefined();
    expectRefused(await limiter.checkSend('acct', otp('+15550000062')), 60);
  });
});

describe('checkSendMany', () => {
  it('answers per item, in order: recipient refusals use no quota, the first items get what quota is left', async () => {
    const limiter = limiterWithPolicies({ acct: { accountQuota: [{ max: 100, perSeconds: 3600 }, { max: 7, perSeconds: 60 }] } });
    const sends = ['+1', '+2', '+1', '+3', '+4', '+5', '+6', '+7', '+8', '+9'].map((n) => otp(`${n}5550000070`));
    const results = await limiter.checkSendMany('acct', sends);

    expect(results.map((r) => r?.retryAfterSeconds)).toEqual([undefined, undefined, 60, undefined, undefined, undefined, undefined, undefined, 60, 60]);
    expect(results[2]?.message).toMatch(/OTP messages per 60 s to one recipient/);
    expect(results[8]?.message).toMatch(/account quota of 7 messages per 60 s/);

    // Exactly the quota is used, and the last two recipients got their minute back: asked
    // again, they are refused for the quota, not for having had an OTP this minute.
    const again = await limiter.checkSendMany('acct', [otp('+105550000070'), otp('+85550000070'), otp('+95550000070')]);
    expect(again.map((r) => r?.message)).toEqual(Array(3).fill('account quota of 7 messages per 60 s reached; retry after 60 s'));
    expect((await limiter.checkSend('acct', otp('+15550000070')))?.message).toMatch(/OTP messages per 60 s to one recipient/);
  });

  it('names the longest of the quota windows that are short for each refused item', async () => {
    const limiter = limiterWithPolicies({ acct: { accountQuota: [{ max: 3, perSeconds: 3600 }, { max: 2, perSeconds: 60 }] } });
    const results = await limiter.checkSendMany('acct', [note('+15550000081'), note('+15550000082'), note('+15550000083'), note('+15550000084')]);
    // The minute has room for 2: the 3rd waits for the minute; the 4th is short of the hour too.
    expect(results.map((r) => r?.retryAfterSeconds)).toEqual([undefined, undefined, 60, 3600]);
  });

  it('counts an empty batch as nothing', async () => {
    expect(await limiterWith().checkSendMany('acct', [])).toEqual([]);
  });

  it('rejects a bad count as a caller bug', async () => {
    const limiter = limiterWith();
    await expect(limiter.checkSend('acct', { ...otp('+15550000091'), count: 0 })).rejects.toThrow(RangeError);
    await expect(limiter.checkSend('acct', { ...otp('+15550000091'), count: 1.5 })).rejects.toThrow(RangeError);
    await expect(limiter.checkSend('acct', { recipient: '' })).rejects.toThrow(TypeError);
  });

  it('counts 10 000 recipients in memory quickly', async () => {
    const limiter = limiterWith();
    const sends = Array.from({ length: 10_000 }, (_, i) => otp(`+1555${String(i).padStart(7, '0')}`));
    const started = performance.now();
    const results = await limiter.checkSendMany('acct', sends);
    const elapsedMs = performance.now() - started;
    console.log(`checkSendMany, 10 000 OTP recipients, memory: ${elapsedMs.toFixed(0)} ms`);
    expect(results.every((r) => r === undefined)).toBe(true);
    const again = await limiter.checkSendMany('acct', sends.slice(0, 3));
    expect(again.map((r) => r?.retryAfterSeconds)).toEqual([60, 60, 60]);
    expect(elapsedMs).toBeLessThan(5000);
  });
});

describe('with a Redis client that is not ready', () => {
  it('counts in this process instead of failing or waiting', async () => {
    // lazyConnect and never used: the client stays in "wait" and never touches the network.
    const redis = new Redis({ lazyConnect: true, enableOfflineQueue: false });
    try {
      const limiter = limiterWith({ redis });
      expect(await limiter.checkSend('acct', otp('+15550000101'))).toBeUndefined();
      expectRefused(await limiter.checkSend('acct', otp('+15550000101')), 60);
      expect(redis.status).toBe('wait');
    } finally {
      redis.disconnect();
    }
  });
});

describe('close', () => {
  it('waits for calls in flight, then refuses new ones', async () => {
    const limiter = createLimiter();
    const pending = limiter.checkSend('acct', otp('+15550000111'));
    await limiter.close();
    expect(await pending).toBeUndefined();
    await expect(limiter.checkSend('acct', otp('+15550000112'))).rejects.toThrow(/closed/);
  });
});

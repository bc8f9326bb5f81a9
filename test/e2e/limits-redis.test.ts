// Two limiters on the machine's real Redis, each with its own connection, as two Herald
// instances would have: what one counts, the other sees. Real clock: Redis expires the windows.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimitedError } from '../../src/domain/errors.js';
import { createLimiter, type Limiter, type SendToCheck } from '../../src/limits/limiter.js';
import { defaultLimitPolicy, resolveLimitPolicy, type LimitPolicy, type LimitPolicyOverrides } from '../../src/limits/policy.js';
import { REDIS_URL, requireRedis, waitUntil } from '../support/services.js';

// A prefix of its own per run: reruns (and concurrent runs) never see each other's counters.
const keyPrefix = `herald:test-${randomUUID()}:limits`;

const overrides: Record<string, LimitPolicyOverrides> = {
  'hourly-otp': { recipient: { OTP: [{ max: 5, perSeconds: 3600 }] } },
  // Short enough to watch expire, long enough that a loaded machine does not outlive it between two calls.
  'short-window-otp': { recipient: { OTP: [{ max: 1, perSeconds: 4 }] } },
  'request-rate': { requests: { max: 3, perSeconds: 60 } },
  'small-quota': { recipient: { NOTIFICATION: [{ max: 1, perSeconds: 600 }] }, accountQuota: [{ max: 8, perSeconds: 3600 }] },
};
const policies = new Map(Object.entries(overrides).map(([id, o]) => [id, resolveLimitPolicy(o)]));
const policyFor = (accountId: string): LimitPolicy => policies.get(accountId) ?? defaultLimitPolicy;

let clients: Redis[] = [];
let a: Limiter;
let b: Limiter;
let inspect: Redis;

async function connect(): Promise<Redis> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  clients.push(client);
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`Redis is not reachable at ${REDIS_URL} (${(error as Error).message}); the shared-limits test needs it`);
  }
  return client;
}

async function keysOfThisRun(): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await inspect.scan(cursor, 'MATCH', `${keyPrefix}:*`, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

beforeAll(async () => {
  await requireRedis();
  // Connected before the limiters are made: a client that isn't ready yet would make them
  // count in memory (their fallback), and the instances would not share anything.
  const [clientA, clientB] = [await connect(), await connect()];
  inspect = await connect();
  a = createLimiter({ redis: clientA, policyFor, keyPrefix });
  b = createLimiter({ redis: clientB, policyFor, keyPrefix });
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  if (inspect?.status === 'ready') {
    const keys = await keysOfThisRun();
    for (let i = 0; i < keys.length; i += 1000) await inspect.del(...keys.slice(i, i + 1000));
  }
  await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
  clients = [];
});

const otp = (recipient: string): SendToCheck => ({ recipient, category: 'OTP' });
const key = (rest: string) => `${keyPrefix}:${rest}`;

function retryAfter(result: RateLimitedError | undefined): number {
  expect(result).toBeInstanceOf(RateLimitedError);
  return result!.retryAfterSeconds;
}

describe('limits shared through Redis by two instances', () => {
  it('an OTP counted on A is refused on B, with the wait A\'s window has left', async () => {
    const startedMs = Date.now();
    expect(await a.checkSend('default', otp('+8613800138000'))).toBeUndefined();
    const refused = await b.checkSend('default', otp('+8613800138000'));
    const elapsedMs = Date.now() - startedMs;

    const seconds = retryAfter(refused);
    expect(seconds).toBeLessThanOrEqual(60);
    expect(seconds).toBeGreaterThanOrEqual(Math.ceil((60_000 - elapsedMs) / 1000));
    // The wait is the window's own expiry in Redis, read afterwards (so at most a second less).
    const ttlMs = await inspect.pttl(key('acct:default:rcpt:OTP:60s:%2B8613800138000'));
    expect(seconds - Math.ceil(ttlMs / 1000)).toBeGreaterThanOrEqual(0);
    expect(seconds - Math.ceil(ttlMs / 1000)).toBeLessThanOrEqual(1);
    // A refused send counts nowhere: the window still holds A's one message.
    expect(await inspect.get(key('acct:default:rcpt:OTP:60s:%2B8613800138000'))).toBe('1');
  });

  it('counts from both instances add up to one limit', async () => {
    for (const limiter of [a, b, a, b, a]) expect(await limiter.checkSend('hourly-otp', otp('+15551110001'))).toBeUndefined();
    const seconds = retryAfter(await b.checkSend('hourly-otp', otp('+15551110001')));
    expect(seconds).toBeGreaterThan(3590);
    expect(seconds).toBeLessThanOrEqual(3600);
  });

  it('a window reopens for both instances when Redis expires it', async () => {
    expect(await a.checkSend('short-window-otp', otp('+15551110002'))).toBeUndefined();
    const first = retryAfter(await b.checkSend('short-window-otp', otp('+15551110002')));
    expect(first).toBeGreaterThanOrEqual(1);
    expect(first).toBeLessThanOrEqual(4);
    await waitUntil(async () => (await b.checkSend('short-window-otp', otp('+15551110002'))) === undefined, {
      timeoutMs: 10_000,
      intervalMs: 100,
      describe: () => 'B was still refused more than 10 s after a 4 s window opened',
    });
    const again = retryAfter(await a.checkSend('short-window-otp', otp('+15551110002')));
    expect(again).toBeGreaterThanOrEqual(1);
    expect(again).toBeLessThanOrEqual(4);
  });

  it('an API key\'s request rate is one budget across instances', async () => {
    for (const limiter of [a, b, a]) expect(await limiter.consumeRequest('key-1', 'request-rate')).toBeUndefined();
    expect(retryAfter(await b.consumeRequest('key-1', 'request-rate'))).toBeGreaterThan(55);
    expect(await a.consumeRequest('key-2', 'request-rate')).toBeUndefined();
  });

  it('bulk sends on both instances share the account quota; refused items give their recipient count back', async () => {
    const recipients = Array.from({ length: 10 }, (_, i) => `+1555222${String(i).padStart(4, '0')}`);
    const sends = recipients.map((recipient): SendToCheck => ({ recipient, category: 'NOTIFICATION' }));
    expect(await a.checkSendMany('small-quota', sends.slice(0, 5))).toEqual(Array(5).fill(undefined));

    const results = await b.checkSendMany('small-quota', sends.slice(5));
    expect(results.slice(0, 3)).toEqual([undefined, undefined, undefined]);
    for (const refused of results.slice(3)) {
      expect(refused?.message).toMatch(/account quota of 8 messages per 3600 s/);
      expect(retryAfter(refused)).toBeGreaterThan(3590);
    }
    expect(await inspect.get(key('acct:small-quota:quota:3600s'))).toBe('8');
    expect(await inspect.get(key(`acct:small-quota:rcpt:NOTIFICATION:600s:${encodeURIComponent(recipients[8])}`))).toBe('0');
    expect(await inspect.get(key(`acct:small-quota:rcpt:NOTIFICATION:600s:${encodeURIComponent(recipients[7])}`))).toBe('1');
  });

  it('keeps every key under the run\'s herald: prefix and an account', async () => {
    const keys = await keysOfThisRun();
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) expect(k).toMatch(new RegExp(`^${keyPrefix}:acct:(default|hourly-otp|short-window-otp|request-rate|small-quota):`));
  });

  it('counts 10 000 recipients in one batch, and the other instance sees every one', async () => {
    const sends = Array.from({ length: 10_000 }, (_, i) => otp(`+1666${String(i).padStart(7, '0')}`));
    const startedMs = performance.now();
    const results = await a.checkSendMany('bulk', sends);
    const elapsedMs = performance.now() - startedMs;
    console.log(`checkSendMany, 10 000 OTP recipients (4 recipient windows each + quota), Redis: ${elapsedMs.toFixed(0)} ms`);
    expect(results.filter((r) => r !== undefined)).toEqual([]);
    expect(await inspect.get(key('acct:bulk:quota:86400s'))).toBe('10000');

    const again = await b.checkSendMany('bulk', sends.slice(-100));
    expect(again.every((r) => r instanceof RateLimitedError && r.retryAfterSeconds <= 60)).toBe(true);
    expect(elapsedMs).toBeLessThan(20_000);
  });
});

import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/providers/circuit-breaker.js';
import { ProviderPool } from '../../src/providers/provider-pool.js';
import { unknownFacts } from '../../src/dispatch/dispatch-context.js';
import { percentile, ProviderStats } from '../../src/providers/provider-stats.js';
import { parseRoutingConfig, RoutingConfigError } from '../../src/config/routes.js';
import { candidates, orderByWeight } from '../../src/providers/routing.js';
import type { OutboundMessage, SendResult, SmsProvider } from '../../src/providers/types.js';

const ALL = ['simulator', 'twilio', 'aliyun', 'tencent'];

const routes = parseRoutingConfig(
  JSON.stringify({
    routes: [
      { name: 'otp-cn', match: { countries: ['CN'], categories: ['OTP'] }, providers: ['tencent', 'aliyun'] },
      { name: 'cn', match: { countries: ['CN'] }, providers: ['aliyun', 'tencent', 'twilio'], weights: { aliyun: 3, tencent: 1 } },
      { name: 'uk-mobile', match: { prefixes: ['+447'] }, providers: ['twilio'] },
      { name: 'promo', match: { templates: ['black-friday'] }, providers: ['simulator', 'twilio'] },
    ],
  }),
  ALL,
);

describe('routing rules', () => {
  it('picks the first route whose every criterion fits, else SMS_PROVIDERS order', () => {
    expect(candidates(routes, { to: '+8613800138000', category: 'OTP' })).toEqual(['tencent', 'aliyun']);
    expect(candidates(routes, { to: '+8613800138000', category: 'NOTIFICATION' }, () => 0)).toEqual(['aliyun', 'tencent', 'twilio']);
    expect(candidates(routes, { to: '+447700900123' })).toEqual(['twilio']);
    expect(candidates(routes, { to: '+442079460000' })).toEqual(ALL); // a UK landline prefix does not match +447
    expect(candidates(routes, { to: '+14155550100', templateName: 'black-friday' })).toEqual(['simulator', 'twilio']);
    expect(candidates(routes, { to: '+14155550100', templateName: 'other' })).toEqual(ALL);
  });

  it('splits the first choice by weight and keeps the rest as fallbacks in list order', () => {
    expect(orderByWeight(['a', 'b', 'c'], { a: 3, b: 1 }, () => 0.74)).toEqual(['a', 'b', 'c']);
    expect(orderByWeight(['a', 'b', 'c'], { a: 3, b: 1 }, () => 0.76)).toEqual(['b', 'a', 'c']);
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const firsts = { aliyun: 0, tencent: 0 } as Record<string, number>;
    for (let i = 0; i < 4000; i++) firsts[candidates(routes, { to: '+8613800138000' }, random)[0]!]!++;
    expect(firsts.aliyun! / 4000).toBeGreaterThan(0.7);
    expect(firsts.aliyun! / 4000).toBeLessThan(0.8);
  });

  it('refuses bad rules at start, naming each problem', () => {
    const bad = (value: unknown) => () => parseRoutingConfig(typeof value === 'string' ? value : JSON.stringify(value), ALL);
    expect(bad('{nope')).toThrow(/not valid JSON/);
    expect(bad({ routes: [{ providers: ['smpp'] }] })).toThrow(/smpp, not in SMS_PROVIDERS/);
    expect(bad({ routes: [{ providers: ['twilio'], weights: { aliyun: 1 } }] })).toThrow(/weights name aliyun/);
    expect(bad({ routes: [{ providers: [] }] })).toThrow(RoutingConfigError);
    expect(bad({ routes: [{ match: { country: ['CN'] }, providers: ['twilio'] }] })).toThrow(/Unrecognized key/);
    expect(bad({ providers: { twilio: { ratePerSecond: -1 } } })).toThrow(/ratePerSecond/);
  });
});

describe('circuit breaker', () => {
  it('opens after consecutive failures, lets one probe through when the time is up, closes on success', () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 3, openMs: 1000, now: () => now });
    breaker.failure();
    breaker.failure();
    breaker.success(); // not consecutive
    breaker.failure();
    breaker.failure();
    expect(breaker.current).toBe('CLOSED');
    breaker.failure();
    expect(breaker.current).toBe('OPEN');
    expect(breaker.tryAcquire()).toBe(false);
    now = 1000;
    expect(breaker.current).toBe('HALF_OPEN');
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false); // one probe at a time
    breaker.failure(); // the probe failed: open again, timer restarts
    expect(breaker.current).toBe('OPEN');
    now = 1999;
    expect(breaker.tryAcquire()).toBe(false);
    now = 2000;
    expect(breaker.tryAcquire()).toBe(true);
    breaker.success();
    expect(breaker.current).toBe('CLOSED');
    expect(breaker.tryAcquire()).toBe(true);
  });
});

describe('provider stats', () => {
  it('reports success rate and nearest-rank percentiles over the recent window only', () => {
    let now = 0;
    const stats = new ProviderStats(60_000, 100, () => now);
    stats.record(5_000, false); // falls out of the window below
    now = 120_000;
    for (let i = 1; i <= 100; i++) stats.record(i, i % 10 !== 0);
    expect(stats.snapshot()).toEqual({ submissions: 100, failures: 10, successRate: 0.9, latencyP50Ms: 50, latencyP95Ms: 95, latencyP99Ms: 99 });
    expect(percentile([], 0.5)).toBeNull();
  });
});

function fakeProvider(name: string, answer: (m: OutboundMessage) => Promise<SendResult> | SendResult, extra: Partial<SmsProvider> = {}): SmsProvider {
  return { name, send: async (m) => answer(m), verifyWebhook: () => false, parseStatusReport: () => [], ...extra };
}

const message: OutboundMessage = { id: 'm1', to: '+14155550100', body: 'hi', segments: 1, encoding: 'GSM7' };

describe('provider pool', () => {
  it('opens a failing provider\'s circuit and reports it, with its last error', async () => {
    const down = fakeProvider('down', () => ({ kind: 'retryable', errorCode: 'PROVIDER_ERROR', rawCode: '503', message: 'HTTP 503' }));
    const pool = new ProviderPool([down], { routing: parseRoutingConfig(JSON.stringify({ circuit: { failureThreshold: 2, openMs: 60_000 } }), ['down']), maxWaitMs: 100 });
    expect((await pool.submit(down, message)).kind).toBe('retryable');
    expect((await pool.submit(down, message)).kind).toBe('retryable');
    expect(await pool.submit(down, message)).toMatchObject({ kind: 'unavailable', reason: 'circuit-open' });
    expect(pool.health()[0]).toMatchObject({ name: 'down', state: 'DOWN', circuit: 'OPEN', submissions: 2, failures: 2, successRate: 0, lastErrorCode: 'PROVIDER_ERROR', lastError: 'HTTP 503' });
  });

  it('keeps at most `window` submissions in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const slow = fakeProvider('slow', async () => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return { kind: 'accepted', providerMessageId: 'x' };
    });
    const pool = new ProviderPool([slow], { routing: parseRoutingConfig(JSON.stringify({ providers: { slow: { window: 3 } } }), ['slow']), maxWaitMs: 5_000 });
    const results = await Promise.all(Array.from({ length: 20 }, () => pool.submit(slow, message)));
    expect(results.every((r) => r.kind === 'accepted')).toBe(true);
    expect(peak).toBe(3);
  });

  it('holds submissions to the rate limit and gives up (busy) past the longest wait', async () => {
    const sent: number[] = [];
    const fast = fakeProvider('fast', () => {
      sent.push(Date.now());
      return { kind: 'accepted', providerMessageId: 'x' };
    });
    const pool = new ProviderPool([fast], { routing: parseRoutingConfig(JSON.stringify({ providers: { fast: { ratePerSecond: 5 } } }), ['fast']), maxWaitMs: 200 });
    const results = await Promise.all(Array.from({ length: 8 }, () => pool.submit(fast, message)));
    expect(results.filter((r) => r.kind === 'accepted')).toHaveLength(5);
    expect(results.filter((r) => r.kind === 'unavailable')).toHaveLength(3);
  });

  it('routes only to providers that can carry the message', async () => {
    const templateOnly = fakeProvider('aliyun', () => ({ kind: 'accepted', providerMessageId: 'x' }), { templateOnly: true });
    const plain = fakeProvider('twilio', () => ({ kind: 'accepted', providerMessageId: 'x' }));
    const pool = new ProviderPool([templateOnly, plain], { routing: parseRoutingConfig(undefined, ['aliyun', 'twilio']), maxWaitMs: 100 });
    const names = async (canCarry: (p: SmsProvider) => boolean) => (await pool.choose({ to: message.to }, canCarry, async (n) => unknownFacts(n))).providers.map((p) => p.name);
    expect(await names((p) => !p.templateOnly)).toEqual(['twilio']);
    expect(await names(() => true)).toEqual(['aliyun', 'twilio']);
  });
});

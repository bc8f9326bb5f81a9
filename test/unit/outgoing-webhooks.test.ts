// Outgoing webhook signing against the Standard Webhooks spec's published example and the
// reference `standardwebhooks` library; the retry schedule's parsing and the events a status raises.
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { eventTypesForStatus } from '../../src/outgoing-webhooks/events.js';
import { DEFAULT_RETRY_SCHEDULE, parseRetrySchedule } from '../../src/config/retry-schedule.js';
import { nextDelayMs } from '../../src/outgoing-webhooks/schedule.js';
import { generateSecret, sign, signedHeaders, verify } from '../../src/outgoing-webhooks/signing.js';

describe('signing', () => {
  it("matches the Standard Webhooks specification's test vector", () => {
    expect(sign('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
  });

  it('is accepted by the reference library, and a changed byte is refused by both', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const body = JSON.stringify({ type: 'message.delivered', timestamp: new Date().toISOString(), data: { id: 'x' } });
    const headers = signedHeaders(secret, 'msg_1', body, new Date());
    const webhook = new Webhook(secret);
    expect(webhook.verify(body, headers)).toEqual(JSON.parse(body));
    expect(verify(secret, { id: headers['webhook-id']!, timestamp: headers['webhook-timestamp']!, signature: headers['webhook-signature']! }, body)).toBe(true);
    const tampered = body.replace('delivered', 'failed');
    expect(() => webhook.verify(tampered, headers)).toThrow();
    expect(verify(secret, { id: headers['webhook-id']!, timestamp: headers['webhook-timestamp']!, signature: headers['webhook-signature']! }, tampered)).toBe(false);
    // Signed by the library, checked by ours: same scheme both ways.
    const at = new Date();
    const theirs = webhook.sign('msg_2', at, body);
    expect(verify(secret, { id: 'msg_2', timestamp: String(Math.floor(at.getTime() / 1000)), signature: theirs }, body)).toBe(true);
  });

  it('refuses a stale timestamp and another secret', () => {
    const secret = generateSecret();
    const old = new Date(Date.now() - 10 * 60_000);
    const headers = signedHeaders(secret, 'msg_1', '{}', old);
    const given = { id: 'msg_1', timestamp: headers['webhook-timestamp']!, signature: headers['webhook-signature']! };
    expect(verify(secret, given, '{}')).toBe(false);
    expect(verify(secret, given, '{}', { now: old })).toBe(true);
    expect(verify(generateSecret(), given, '{}', { now: old })).toBe(false);
  });
});

describe('retry schedule', () => {
  it('defaults to the reference schedule: 7 retries over about 28 hours', () => {
    const schedule = parseRetrySchedule(DEFAULT_RETRY_SCHEDULE);
    expect(schedule).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(nextDelayMs(schedule, 1)).toBe(5_000);
    expect(nextDelayMs(schedule, 7)).toBe(36_000_000);
    expect(nextDelayMs(schedule, 8)).toBeUndefined();
  });

  it('takes milliseconds, none, and refuses anything else', () => {
    expect(parseRetrySchedule('50ms, 0.1s')).toEqual([50, 100]);
    expect(parseRetrySchedule('none')).toEqual([]);
    expect(() => parseRetrySchedule('5 minutes')).toThrow(/not a delay/);
  });
});

describe('event types', () => {
  it('raises status_changed for every status and the specific type for SENT, DELIVERED and failures', () => {
    expect(eventTypesForStatus('QUEUED')).toEqual(['message.status_changed']);
    expect(eventTypesForStatus('DELIVERED')).toEqual(['message.status_changed', 'message.delivered']);
    for (const status of ['FAILED', 'UNDELIVERED', 'EXPIRED', 'REJECTED'] as const) expect(eventTypesForStatus(status)).toContain('message.failed');
  });
});

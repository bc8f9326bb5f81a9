import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.js';
import {
  defaultLimitPolicy,
  limitPolicyOverridesSchema,
  parseLimitPolicyOverrides,
  resolveLimitPolicy,
  type LimitPolicyOverrides,
} from '../../src/limits/policy.js';

describe('LimitPolicy', () => {
  it('defaults to Aliyun\'s OTP flow control, and survives a JSON round trip as valid overrides', () => {
    expect(defaultLimitPolicy.recipient.OTP).toEqual([
      { max: 1, perSeconds: 60 },
      { max: 5, perSeconds: 3600 },
      { max: 10, perSeconds: 86_400 },
    ]);
    expect(defaultLimitPolicy.plainBodyCategory).toBe('NOTIFICATION');
    expect(defaultLimitPolicy.accountQuota).toEqual([{ max: 100_000, perSeconds: 86_400 }]);
    const stored = JSON.parse(JSON.stringify(defaultLimitPolicy));
    expect(stored).toEqual(defaultLimitPolicy);
    expect(resolveLimitPolicy(limitPolicyOverridesSchema.parse(stored))).toEqual(defaultLimitPolicy);
  });

  it('is frozen, so no caller can change the defaults for everyone', () => {
    expect(Object.isFrozen(defaultLimitPolicy.recipient.OTP[0])).toBe(true);
    expect(() => {
      (defaultLimitPolicy.recipient.OTP as { max: number }[]).push({ max: 1 });
    }).toThrow();
  });

  it('replaces only the fields an account overrides, each wholesale', () => {
    const overrides: LimitPolicyOverrides = {
      recipient: { MARKETING: [] },
      requests: { max: 5, perSeconds: 1, burst: null },
    };
    const policy = resolveLimitPolicy(overrides);
    expect(policy.recipient.MARKETING).toEqual([]);
    expect(policy.recipient.OTP).toEqual(defaultLimitPolicy.recipient.OTP);
    expect(policy.requests).toEqual({ max: 5, perSeconds: 1, burst: null });
    expect(policy.accountQuota).toEqual(defaultLimitPolicy.accountQuota);
    // The caller's objects are copied, not frozen in place.
    expect(Object.isFrozen(overrides.requests)).toBe(false);
  });

  it('reads an omitted burst as no burst', () => {
    const parsed = parseLimitPolicyOverrides({ requests: { max: 5, perSeconds: 1 } });
    expect(parsed).toEqual({ requests: { max: 5, perSeconds: 1, burst: null } });
  });

  it('rejects invalid overrides with an issue naming each bad path', () => {
    const result = parseLimitPolicyOverrides({
      recipient: { OTP: [{ max: 0, perSeconds: 60 }, { max: 5, perSeconds: 60 }], SMS: [] },
      plainBodyCategory: 'PLAIN',
      requests: { max: 1.5, perSeconds: 1 },
      accountQuota: [{ max: 10, perSeconds: 30 * 86_400 }],
      quota: 5,
    });
    expect(result).toBeInstanceOf(ValidationError);
    const issues = (result as ValidationError).issues;
    expect(issues.map((i) => i.path.join('.'))).toEqual([
      'recipient.OTP.0.max',
      'recipient.OTP.1.perSeconds',
      'recipient',
      'plainBodyCategory',
      'requests.max',
      'accountQuota.0.perSeconds',
      '',
    ]);
    expect(issues[1].message).toBe('two windows of 60 s; give each window its own length');
    expect(issues[2].message).toMatch(/SMS/);
    expect(issues[5].message).toBe('must be at most 2147483 (about 24 days)');
    expect(issues[6].message).toMatch(/quota/);
    expect((result as ValidationError).code).toBe('VALIDATION_FAILED');
  });

  it('rejects a window list longer than five', () => {
    const windows = Array.from({ length: 6 }, (_, i) => ({ max: 1, perSeconds: i + 1 }));
    const result = parseLimitPolicyOverrides({ accountQuota: windows });
    expect((result as ValidationError).issues.map((i) => i.path.join('.'))).toEqual(['accountQuota']);
  });
});

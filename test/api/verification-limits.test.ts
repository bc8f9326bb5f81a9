// How often codes may go out: the resend cool-down and window per number, and the account's
// anti-pumping rules (country allow-list, velocity per number range), with their settings.
// Time passes by moving the account's verifications into the past (limits count from
// createdAt); the clock-driven rules themselves are unit-tested with an injected clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoErrors, startTestHerald, type TestHerald } from '../support/herald.js';
import { list, setOtpSettings, start, started, travel } from './verification-helpers.js';

let t: TestHerald;
beforeAll(async () => {
  t = await startTestHerald();
});
afterAll(() => t?.stop());

const TO = '+14155550123';

describe('per number', () => {
  it('refuses a second code within 60 s with RateLimitedError and the exact wait, then sends after it', async () => {
    const account = await t.seedAccount();
    await started(account.sender, { to: TO });
    const startedAt = Date.now();
    const refused = await start(account.sender, { to: '+1 415 555 0123' });
    const elapsed = Math.ceil((Date.now() - startedAt) / 1000);
    expect(refused).toMatchObject({ __typename: 'RateLimitedError', code: 'RATE_LIMITED' });
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(59 - elapsed);
    expect(await t.database.prisma.verification.count({ where: { accountId: account.accountId } })).toBe(1);

    await travel(t, account, 30);
    const later = await start(account.sender, { to: TO });
    expect(later.retryAfterSeconds).toBeLessThanOrEqual(30);
    expect(later.retryAfterSeconds).toBeGreaterThanOrEqual(29 - elapsed);

    await travel(t, account, 30);
    expect((await start(account.sender, { to: TO })).__typename).toBe('StartVerificationSuccess');
    // Another number is never held by this one's cool-down.
    expect((await start(account.sender, { to: '+14155550124' })).__typename).toBe('StartVerificationSuccess');
  });

  it('sends at most 5 codes per 10 minutes to a number; the 6th waits for the oldest to leave the window', async () => {
    const account = await t.seedAccount();
    const firstAt = Date.now();
    for (let i = 0; i < 5; i++) {
      await started(account.sender, { to: TO });
      await travel(t, account, 61);
    }
    // Sent 305, 244, 183, 122 and 61 s ago (plus the real time these calls took): the oldest
    // leaves the 600 s window in 295 s less that real time.
    const refused = await start(account.sender, { to: TO });
    const elapsed = Math.ceil((Date.now() - firstAt) / 1000);
    expect(refused).toMatchObject({ __typename: 'RateLimitedError' });
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(295 - elapsed);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(295);
    expect(refused.message).toMatch(/5 per 10 minutes/);

    await travel(t, account, 295);
    expect((await start(account.sender, { to: TO })).__typename).toBe('StartVerificationSuccess');
  });

  it('lets only one of many concurrent starts to a number through', async () => {
    const account = await t.seedAccount();
    const results = await Promise.all(Array.from({ length: 6 }, () => start(account.sender, { to: TO })));
    expect(results.filter((r) => r.__typename === 'StartVerificationSuccess')).toHaveLength(1);
    expect(results.filter((r) => r.__typename === 'RateLimitedError')).toHaveLength(5);
    expect(await t.database.prisma.message.count({ where: { accountId: account.accountId } })).toBe(1);
  });
});

describe('anti-pumping', () => {
  it('stops a burst of codes to one number range with VerificationBlockedError PREFIX_VELOCITY', async () => {
    const account = await t.seedAccount();
    const set = await setOtpSettings(account.admin, { otpPrefixVelocity: { prefixDigits: 7, max: 3, perSeconds: 3600 } });
    expect(set).toMatchObject({ __typename: 'UpdateAccountSettingsSuccess', data: { otpPrefixVelocity: { prefixDigits: 7, max: 3, perSeconds: 3600 } } });

    // Sequential numbers in +1 415 555: the shape of an SMS pumping attack.
    const firstAt = Date.now();
    for (const n of ['+14155550101', '+14155550102', '+14155550103']) await started(account.sender, { to: n });
    const blocked = await start(account.sender, { to: '+14155550104' });
    const elapsed = Math.ceil((Date.now() - firstAt) / 1000);
    expect(blocked).toMatchObject({
      __typename: 'VerificationBlockedError',
      code: 'VERIFICATION_BLOCKED',
      reason: 'PREFIX_VELOCITY',
      prefix: '+1415555',
      country: null,
    });
    expect(blocked.blockedForSeconds).toBeGreaterThanOrEqual(3600 - elapsed);
    expect(blocked.blockedForSeconds).toBeLessThanOrEqual(3600);
    expect(blocked.message).toMatch(/\+1415555/);
    expect(await t.database.prisma.message.count({ where: { accountId: account.accountId } })).toBe(3);

    // Another range is not affected, and the range opens again when the window has passed.
    expect((await start(account.sender, { to: '+14155560101' })).__typename).toBe('StartVerificationSuccess');
    await travel(t, account, 3600);
    expect((await start(account.sender, { to: '+14155550104' })).__typename).toBe('StartVerificationSuccess');
  });

  it('holds concurrent starts into one range to the limit', async () => {
    const account = await t.seedAccount();
    await setOtpSettings(account.admin, { otpPrefixVelocity: { prefixDigits: 9, max: 4, perSeconds: 600 } });
    const numbers = Array.from({ length: 10 }, (_, i) => `+1415555011${i}`);
    const results = await Promise.all(numbers.map((to) => start(account.sender, { to })));
    expect(results.filter((r) => r.__typename === 'StartVerificationSuccess')).toHaveLength(4);
    expect(results.filter((r) => r.reason === 'PREFIX_VELOCITY')).toHaveLength(6);
  });

  it('uses 7 digits and 20 codes an hour per range by default', async () => {
    const account = await t.seedAccount();
    const settings = expectNoErrors(await account.sender(`{ accountSettings { otpAllowedCountries otpPrefixVelocity { prefixDigits max perSeconds } } }`));
    expect(settings.accountSettings).toEqual({ otpAllowedCountries: [], otpPrefixVelocity: { prefixDigits: 7, max: 20, perSeconds: 3600 } });
    for (let i = 0; i < 20; i++) await started(account.sender, { to: `+141555501${String(i).padStart(2, '0')}` });
    expect(await start(account.sender, { to: '+14155550199' })).toMatchObject({ reason: 'PREFIX_VELOCITY', prefix: '+1415555' });
    expect(await list(account.sender, { first: 100 })).toHaveLength(20);
  });

  it('sends codes only to allowed countries when the account has an allow-list', async () => {
    const account = await t.seedAccount();
    const set = await setOtpSettings(account.admin, { otpAllowedCountries: ['us', 'CA'] });
    expect(set.data.otpAllowedCountries).toEqual(['CA', 'US']);

    expect(await start(account.sender, { to: '+8613800138000' })).toMatchObject({
      __typename: 'VerificationBlockedError',
      reason: 'COUNTRY_NOT_ALLOWED',
      country: 'CN',
      prefix: null,
      blockedForSeconds: null,
    });
    expect((await start(account.sender, { to: TO })).__typename).toBe('StartVerificationSuccess');
    expect((await start(account.sender, { to: '+1 604 555 0123' })).__typename).toBe('StartVerificationSuccess');
    expect(await t.database.prisma.verification.count({ where: { accountId: account.accountId } })).toBe(2);

    // [] allows every country again.
    await setOtpSettings(account.admin, { otpAllowedCountries: [] });
    expect((await start(account.sender, { to: '+8613800138000' })).__typename).toBe('StartVerificationSuccess');
  });
});

describe('settings', () => {
  it('lets only an ADMIN change the OTP rules, validates them, and restores the default velocity with null', async () => {
    const account = await t.seedAccount();
    expect(await setOtpSettings(account.sender, { otpAllowedCountries: ['US'] })).toMatchObject({ __typename: 'ForbiddenError' });

    const invalid = await setOtpSettings(account.admin, {
      otpAllowedCountries: ['US', 'Narnia'],
      otpPrefixVelocity: { prefixDigits: 16, max: 0, perSeconds: 3600 },
    });
    expect(invalid.__typename).toBe('ValidationError');
    expect(invalid.issues.map((i: { path: string[] }) => i.path.join('.'))).toEqual([
      'input.otpAllowedCountries.1',
      'input.otpPrefixVelocity.prefixDigits',
      'input.otpPrefixVelocity.max',
    ]);

    await setOtpSettings(account.admin, { otpPrefixVelocity: { prefixDigits: 5, max: 50, perSeconds: 600 } });
    // Other settings leave the OTP rules alone.
    const other = await setOtpSettings(account.admin, { otpBypassesOptOut: false });
    expect(other.data.otpPrefixVelocity).toEqual({ prefixDigits: 5, max: 50, perSeconds: 600 });
    const reset = await setOtpSettings(account.admin, { otpPrefixVelocity: null });
    expect(reset.data.otpPrefixVelocity).toEqual({ prefixDigits: 7, max: 20, perSeconds: 3600 });
  });
});

// Frequency limits through the API, on accounts with the default limits: per recipient and
// category, account settings (overrides), the per-key request rate (HTTP 429) and refunds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultLimitPolicy } from '../../src/limits/policy.js';
import { expectNoErrors, startTestHerald, type TestHerald } from '../support/herald.js';
import { approvedTemplate, messageCount, mutate, send, setSettings } from '../support/templates.js';

let t: TestHerald;
beforeAll(async () => {
  t = await startTestHerald();
});
afterAll(() => t?.stop());

const SETTINGS = `{ accountSettings { limits effectiveLimits otpBypassesOptOut } }`;
const limited = () => t.seedAccount(undefined, { limits: 'default' });

describe('per-recipient limits', () => {
  it('allows one OTP per minute per number, with retryAfterSeconds counting down from 60', async () => {
    const account = await limited();
    const otp = await approvedTemplate(account, 'Your code is {{code}}', 'OTP');
    const started = Date.now();
    expect((await send(account.sender, { to: '+14155550123', templateId: otp, variables: { code: '1111' } })).__typename).toBe('SendMessageSuccess');
    const refused = await send(account.sender, { to: '+1 415 555 0123', templateId: otp, variables: { code: '2222' } });
    const elapsedSeconds = Math.ceil((Date.now() - started) / 1000);
    expect(refused).toMatchObject({ __typename: 'RateLimitedError', code: 'RATE_LIMITED' });
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(60 - elapsedSeconds);
    expect(refused.message).toMatch(/OTP/);

    // Another number, and the same number in another account, are not limited.
    expect((await send(account.sender, { to: '+14155550124', templateId: otp, variables: { code: '3333' } })).__typename).toBe('SendMessageSuccess');
    const other = await limited();
    const otherOtp = await approvedTemplate(other, 'Code {{code}}', 'OTP');
    expect((await send(other.sender, { to: '+14155550123', templateId: otherOtp, variables: { code: '4444' } })).__typename).toBe('SendMessageSuccess');
    expect(await messageCount(account.sender)).toBe(2);
  });

  it('lets exactly one of several concurrent OTP sends to one number through', async () => {
    const account = await limited();
    const otp = await approvedTemplate(account, 'Your code is {{code}}', 'OTP');
    const results = await Promise.all([1, 2, 3, 4, 5].map((i) => send(account.sender, { to: '+14155550123', templateId: otp, variables: { code: String(i) } })));
    expect(results.map((r) => r.__typename).sort()).toEqual(['RateLimitedError', 'RateLimitedError', 'RateLimitedError', 'RateLimitedError', 'SendMessageSuccess']);
    expect(await messageCount(account.sender)).toBe(1);
  });

  it('counts plain bodies as NOTIFICATION (3 per minute), in a bucket apart from OTP', async () => {
    const account = await limited();
    const to = '+14155550123';
    for (let i = 0; i < 3; i++) expect((await send(account.sender, { to, body: `Update ${i}` })).__typename).toBe('SendMessageSuccess');
    for (let i = 0; i < 2; i++) expect(await send(account.sender, { to, body: 'One more' })).toMatchObject({ code: 'RATE_LIMITED' });
    const otp = await approvedTemplate(account, 'Your code is {{code}}', 'OTP');
    expect((await send(account.sender, { to, templateId: otp, variables: { code: '1' } })).__typename).toBe('SendMessageSuccess');
  });

  it('does not count sends refused for another reason (opted out, sensitive, bad variables)', async () => {
    const account = await limited();
    const otp = await approvedTemplate(account, 'Your code is {{code}}', 'OTP');
    const to = '+14155550123';
    await mutate(account.sender, `mutation($p: String!) { addOptOut(phone: $p) { __typename } }`, { p: to });
    await setSettings(account.admin, { otpBypassesOptOut: false });
    expect(await send(account.sender, { to, templateId: otp, variables: { code: '1' } })).toMatchObject({ code: 'RECIPIENT_OPTED_OUT' });
    await mutate(account.sender, `mutation($p: String!) { removeOptOut(phone: $p) { __typename } }`, { p: to });
    expect(await send(account.sender, { to, templateId: otp, variables: { code: 'viagra' } })).toMatchObject({ code: 'SENSITIVE_CONTENT' });
    expect(await send(account.sender, { to, templateId: otp, variables: { pin: '1' } })).toMatchObject({ code: 'TEMPLATE_VARIABLES_MISMATCH' });

    expect((await send(account.sender, { to, templateId: otp, variables: { code: '2' } })).__typename).toBe('SendMessageSuccess');
    expect(await send(account.sender, { to, templateId: otp, variables: { code: '3' } })).toMatchObject({ code: 'RATE_LIMITED' });
  });
});

describe('account settings', () => {
  it('shows no overrides and the default effective limits for a new account', async () => {
    const account = await limited();
    const settings = expectNoErrors(await account.sender(SETTINGS)).accountSettings;
    expect(settings).toEqual({ limits: {}, effectiveLimits: JSON.parse(JSON.stringify(defaultLimitPolicy)), otpBypassesOptOut: true });
  });

  it('lets an ADMIN override limits: OTP 2 per minute lets a second through; {} restores the defaults', async () => {
    const account = await limited();
    const otp = await approvedTemplate(account, 'Your code is {{code}}', 'OTP');
    const to = '+14155550123';
    const code = (c: string) => send(account.sender, { to, templateId: otp, variables: { code: c } });
    expect((await code('1')).__typename).toBe('SendMessageSuccess');
    expect(await code('2')).toMatchObject({ code: 'RATE_LIMITED' });

    const overrides = { recipient: { OTP: [{ max: 2, perSeconds: 60 }] } };
    expect(await setSettings(account.sender, { limits: overrides })).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
    const updated = await setSettings(account.admin, { limits: overrides });
    expect(updated.__typename).toBe('UpdateAccountSettingsSuccess');
    expect(updated.data.limits).toEqual(overrides);
    expect(updated.data.effectiveLimits.recipient).toEqual({ ...defaultLimitPolicy.recipient, OTP: [{ max: 2, perSeconds: 60 }] });
    expect(updated.data.effectiveLimits.requests).toEqual(defaultLimitPolicy.requests);
    expect(expectNoErrors(await account.sender(SETTINGS)).accountSettings).toEqual(updated.data);

    expect((await code('3')).__typename).toBe('SendMessageSuccess');
    expect(await code('4')).toMatchObject({ code: 'RATE_LIMITED' });

    // Changing only otpBypassesOptOut keeps the limits.
    expect((await setSettings(account.admin, { otpBypassesOptOut: false })).data).toMatchObject({ limits: overrides, otpBypassesOptOut: false });
    const restored = await setSettings(account.admin, { limits: {} });
    expect(restored.data).toMatchObject({ limits: {}, otpBypassesOptOut: false });
    expect(restored.data.effectiveLimits).toEqual(JSON.parse(JSON.stringify(defaultLimitPolicy)));
  });

  it('enforces an account quota override over all recipients', async () => {
    const account = await limited();
    await setSettings(account.admin, { limits: { accountQuota: [{ max: 2, perSeconds: 3600 }] } });
    expect((await send(account.sender, { to: '+14155550101', body: 'a' })).__typename).toBe('SendMessageSuccess');
    expect((await send(account.sender, { to: '+14155550102', body: 'b' })).__typename).toBe('SendMessageSuccess');
    const refused = await send(account.sender, { to: '+14155550103', body: 'c' });
    expect(refused).toMatchObject({ code: 'RATE_LIMITED' });
    expect(refused.retryAfterSeconds).toBeGreaterThan(3500);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(3600);
  });

  it('refuses invalid overrides with ValidationError paths under input.limits, changing nothing', async () => {
    const account = await limited();
    const invalid = await setSettings(account.admin, {
      limits: {
        recipient: { OTP: [{ max: 0, perSeconds: 60 }], NOTIFICATION: [{ max: 1, perSeconds: 60 }, { max: 2, perSeconds: 60 }] },
        requests: { max: 'lots', perSeconds: 1 },
        plainBodyCategory: 'SPAM',
        accountQuota: [{ max: 1, perSeconds: 99_999_999 }],
      },
    });
    expect(invalid).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED' });
    const paths = invalid.issues.map((i: any) => i.path.join('.'));
    expect(paths).toEqual(
      expect.arrayContaining([
        'input.limits.recipient.OTP.0.max',
        'input.limits.recipient.NOTIFICATION.1.perSeconds',
        'input.limits.requests.max',
        'input.limits.plainBodyCategory',
        'input.limits.accountQuota.0.perSeconds',
      ]),
    );
    for (const path of paths) expect(path.startsWith('input.limits')).toBe(true);

    for (const limits of [{ typo: [] }, 'nope', [1]]) {
      const refused = await setSettings(account.admin, { limits });
      expect(refused.__typename, JSON.stringify(limits)).toBe('ValidationError');
      for (const issue of refused.issues) expect(issue.path.slice(0, 2)).toEqual(['input', 'limits']);
    }
    expect(expectNoErrors(await account.admin(SETTINGS)).accountSettings.limits).toEqual({});
  });
});

describe('per-key request rate', () => {
  async function post(key: string) {
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: '{ viewer { apiKey { name } } }' }),
    });
    return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as any };
  }

  it('answers HTTP 429 RATE_LIMITED with Retry-After past the limit, per key and per account', async () => {
    const account = await limited();
    const other = await limited();
    const updated = await setSettings(account.admin, { limits: { requests: { max: 3, perSeconds: 60 } } });
    expect(updated.data.effectiveLimits.requests).toEqual({ max: 3, perSeconds: 60, burst: null });

    for (let i = 0; i < 3; i++) expect((await post(account.senderKey)).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const refused = await post(account.senderKey);
      expect(refused.status).toBe(429);
      expect(refused.body.errors[0].extensions.code).toBe('RATE_LIMITED');
      expect(refused.body.data ?? null).toBeNull();
      const retryAfter = Number(refused.retryAfter);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    // A send refused at the door stores nothing.
    const send429 = await account.sender(`mutation { sendMessage(input: {to: "+14155550123", body: "hi"}) { __typename } }`);
    expect(send429.status).toBe(429);

    // The ADMIN key has its own count; another account keeps the default rate.
    for (let i = 0; i < 3; i++) expect((await post(account.adminKey)).status).toBe(200);
    expect((await post(account.adminKey)).status).toBe(429);
    for (let i = 0; i < 10; i++) expect((await post(other.senderKey)).status).toBe(200);
    expect(await t.database.prisma.message.count({ where: { accountId: account.accountId } })).toBe(0);
  });
});

// Verification (OTP) through the API: start, check, expiry, replacement, templates, listing,
// tenancy and concurrent checks. Limits and anti-pumping: verification-limits.test.ts;
// secrecy of the code: verification-secrecy.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoErrors, startTestHerald, type TestHerald } from '../support/herald.js';
import { approvedTemplate, mutate } from '../support/templates.js';
import { check, list, rawId, sentCode, sentMessage, start, started, travel, wrongCode } from './verification-helpers.js';

let t: TestHerald;
beforeAll(async () => {
  t = await startTestHerald();
});
afterAll(() => t?.stop());

const TO = '+14155550123';

describe('startVerification', () => {
  it('sends a 6-digit code valid for 10 minutes and returns the PENDING verification', async () => {
    const account = await t.seedAccount();
    const before = Date.now();
    const verification = await started(account.sender, { to: '+1 (415) 555-0123' });
    expect(verification).toMatchObject({ to: TO, status: 'PENDING', codeLength: 6, attempts: 0, maxAttempts: 5, attemptsLeft: 5, approvedAt: null });
    const ttlMs = Date.parse(verification.expiresAt) - Date.parse(verification.createdAt);
    expect(ttlMs).toBe(600_000);
    expect(Date.parse(verification.createdAt)).toBeGreaterThanOrEqual(before - 1000);

    // The code goes out as an OTP message in Herald's own English text.
    const message = await sentMessage(t, verification.id);
    expect(message).toMatchObject({ to: TO, category: 'OTP', status: 'QUEUED', templateId: null });
    expect(message.body).toMatch(/^Your verification code is \d{6}\. It expires in 10 minutes\.$/);
  });

  it('uses the code length and lifetime asked for, and writes Chinese to +86 numbers or on request', async () => {
    const account = await t.seedAccount();
    const cn = await started(account.sender, { to: '+86 138 0013 8000', codeLength: 4, ttlSeconds: 300 });
    expect(cn).toMatchObject({ to: '+8613800138000', codeLength: 4 });
    expect(Date.parse(cn.expiresAt) - Date.parse(cn.createdAt)).toBe(300_000);
    expect((await sentMessage(t, cn.id)).body).toMatch(/^您的验证码是\d{4}，5分钟内有效。$/);

    const zh = await started(account.sender, { to: TO, codeLength: 10, locale: 'zh-CN' });
    expect((await sentMessage(t, zh.id)).body).toMatch(/^您的验证码是\d{10}，10分钟内有效。$/);
  });

  it('sends through an approved OTP template with {{code}} and {{minutes}}', async () => {
    const account = await t.seedAccount();
    const templateId = await approvedTemplate(account, 'Acme: {{code}} is your login code ({{minutes}} min).', 'OTP');
    const verification = await started(account.sender, { to: TO, templateId, ttlSeconds: 120 });
    const message = await sentMessage(t, verification.id);
    expect(message.body).toMatch(/^Acme: \d{6} is your login code \(2 min\)\.$/);
    expect(message).toMatchObject({ category: 'OTP', templateId: rawId(templateId) });
    expect(await check(account.sender, TO, await sentCode(t, verification.id))).toMatchObject({ __typename: 'CheckVerificationSuccess' });
  });

  it('refuses templates that cannot carry a code, and unknown or unapproved ones', async () => {
    const account = await t.seedAccount();
    const notification = await approvedTemplate(account, 'Your code: {{code}}', 'NOTIFICATION');
    expect(await start(account.sender, { to: TO, templateId: notification })).toMatchObject({
      __typename: 'ValidationError',
      issues: [{ path: ['input', 'templateId'], message: 'must be an OTP template (this one is NOTIFICATION)' }],
    });
    const noCode = await approvedTemplate(account, 'Hello {{name}}', 'OTP');
    const refused = await start(account.sender, { to: TO, templateId: noCode });
    expect(refused.__typename).toBe('ValidationError');
    expect(refused.issues.map((i: { message: string }) => i.message)).toEqual(['the template must contain {{code}}', expect.stringContaining('{{name}}')]);

    const { data: draft } = await mutate(account.admin, `mutation($i: CreateTemplateInput!) { createTemplate(input: $i) { ... on CreateTemplateSuccess { data { id } } } }`, {
      i: { name: 'draft', body: 'Code {{code}}', category: 'OTP' },
    });
    expect(await start(account.sender, { to: TO, templateId: draft.id })).toMatchObject({ __typename: 'TemplateNotApprovedError', status: 'DRAFT' });
    expect(await start(account.sender, { to: TO, templateId: 'nope' })).toMatchObject({ __typename: 'NotFoundError' });
    expect(await t.database.prisma.verification.count({ where: { accountId: account.accountId } })).toBe(0);
  });

  it('reports malformed input and bad numbers as typed errors, and stores nothing', async () => {
    const account = await t.seedAccount();
    const invalid = await start(account.sender, { to: 'nope', codeLength: 3, ttlSeconds: 86_401, locale: 'fr' });
    expect(invalid.__typename).toBe('ValidationError');
    expect(invalid.issues.map((i: { path: string[] }) => i.path.join('.'))).toEqual(['input.codeLength', 'input.ttlSeconds', 'input.to']);
    expect(await start(account.sender, { to: '+1 555' })).toMatchObject({ __typename: 'InvalidPhoneNumberError', code: 'INVALID_PHONE_NUMBER', input: '+1 555' });
    expect(await start(account.sender, { to: TO, locale: 'fr' })).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['input', 'locale'] }] });
    expect(await t.database.prisma.verification.count({ where: { accountId: account.accountId } })).toBe(0);
    expect(await t.database.prisma.message.count({ where: { accountId: account.accountId } })).toBe(0);
  });

  it('reaches an opted-out number (OTP exemption), unless the account turned the exemption off', async () => {
    const account = await t.seedAccount();
    await mutate(account.sender, `mutation($p: String!) { addOptOut(phone: $p) { __typename } }`, { p: TO });
    const first = await started(account.sender, { to: TO });

    await mutate(account.admin, `mutation { updateAccountSettings(input: { otpBypassesOptOut: false }) { __typename } }`, {});
    await travel(t, account, 61);
    expect(await start(account.sender, { to: TO })).toMatchObject({ __typename: 'RecipientOptedOutError', phone: TO });
    // The refused start left no trace and did not replace the code already sent.
    expect(await t.database.prisma.verification.count({ where: { accountId: account.accountId } })).toBe(1);
    expect(await check(account.sender, TO, await sentCode(t, first.id))).toMatchObject({ __typename: 'CheckVerificationSuccess', data: { status: 'APPROVED' } });
  });
});

describe('checkVerification', () => {
  it('approves the right code once; the same code checked again fails as NOT_FOUND', async () => {
    const account = await t.seedAccount();
    const verification = await started(account.sender, { to: TO });
    const code = await sentCode(t, verification.id);
    const approved = await check(account.sender, '+1 415-555-0123', code);
    expect(approved).toMatchObject({ __typename: 'CheckVerificationSuccess', data: { id: verification.id, status: 'APPROVED', attempts: 1, attemptsLeft: 0 } });
    expect(approved.data.approvedAt).not.toBeNull();
    expect(await check(account.sender, TO, code)).toMatchObject({ __typename: 'VerificationFailedError', code: 'VERIFICATION_FAILED', reason: 'NOT_FOUND', attemptsLeft: 0 });
  });

  it('counts wrong codes down to 0, then says MAX_ATTEMPTS_REACHED even for the right code', async () => {
    const account = await t.seedAccount();
    const verification = await started(account.sender, { to: TO });
    const code = await sentCode(t, verification.id);
    const left = [];
    for (let i = 0; i < 5; i++) {
      const failed = await check(account.sender, TO, wrongCode(code));
      expect(failed).toMatchObject({ __typename: 'VerificationFailedError', reason: 'INCORRECT_CODE' });
      left.push(failed.attemptsLeft);
    }
    expect(left).toEqual([4, 3, 2, 1, 0]);
    expect(await check(account.sender, TO, code)).toMatchObject({ reason: 'MAX_ATTEMPTS_REACHED', attemptsLeft: 0 });
    const [row] = await list(account.sender, { to: TO });
    expect(row).toMatchObject({ status: 'MAX_ATTEMPTS_REACHED', attempts: 5, attemptsLeft: 0, approvedAt: null });
  });

  it('refuses a right code after expiresAt as EXPIRED, without using an attempt', async () => {
    const account = await t.seedAccount();
    const verification = await started(account.sender, { to: TO, ttlSeconds: 60 });
    const code = await sentCode(t, verification.id);
    await travel(t, account, 60);
    expect(await check(account.sender, TO, code)).toMatchObject({ __typename: 'VerificationFailedError', reason: 'EXPIRED', attemptsLeft: 0 });
    expect(await check(account.sender, TO, code)).toMatchObject({ reason: 'EXPIRED' });
    const [row] = await list(account.sender, { to: TO });
    expect(row).toMatchObject({ status: 'EXPIRED', attempts: 0 });
  });

  it('says NOT_FOUND when no code was sent to the number, and refuses malformed codes without counting them', async () => {
    const account = await t.seedAccount();
    expect(await check(account.sender, TO, '123456')).toMatchObject({ reason: 'NOT_FOUND', attemptsLeft: 0 });
    const verification = await started(account.sender, { to: TO });
    expect(await check(account.sender, TO, '12ab')).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['input', 'code'] }] });
    expect(await check(account.sender, 'nope', '1234')).toMatchObject({ __typename: 'InvalidPhoneNumberError' });
    expect(await check(account.sender, TO, await sentCode(t, verification.id))).toMatchObject({ data: { status: 'APPROVED', attempts: 1 } });
  });

  it('only knows the newest code: a new start cancels the pending one and its code stops working', async () => {
    const account = await t.seedAccount();
    const first = await started(account.sender, { to: TO });
    const firstCode = await sentCode(t, first.id);
    await travel(t, account, 61);
    const second = await started(account.sender, { to: TO });
    const secondCode = await sentCode(t, second.id);
    const statuses = await list(account.sender, { to: TO });
    expect(statuses.map((v) => [v.id, v.status])).toEqual([
      [second.id, 'PENDING'],
      [first.id, 'CANCELED'],
    ]);
    if (firstCode !== secondCode) expect(await check(account.sender, TO, firstCode)).toMatchObject({ reason: 'INCORRECT_CODE', attemptsLeft: 4 });
    expect(await check(account.sender, TO, secondCode)).toMatchObject({ data: { id: second.id, status: 'APPROVED' } });
  });

  it('approves one of many concurrent checks of the right code, and counts concurrent wrong ones exactly', async () => {
    const account = await t.seedAccount();
    const verification = await started(account.sender, { to: TO });
    const code = await sentCode(t, verification.id);
    const rights = await Promise.all(Array.from({ length: 4 }, () => check(account.sender, TO, code)));
    expect(rights.filter((r) => r.__typename === 'CheckVerificationSuccess')).toHaveLength(1);
    expect(rights.filter((r) => r.reason === 'NOT_FOUND')).toHaveLength(3);

    const other = await started(account.sender, { to: '+14155550199' });
    const otherCode = await sentCode(t, other.id);
    const wrongs = await Promise.all(Array.from({ length: 7 }, () => check(account.sender, '+14155550199', wrongCode(otherCode))));
    const incorrect = wrongs.filter((r) => r.reason === 'INCORRECT_CODE').map((r) => r.attemptsLeft);
    expect(incorrect.sort()).toEqual([0, 1, 2, 3, 4]);
    expect(wrongs.filter((r) => r.reason === 'MAX_ATTEMPTS_REACHED')).toHaveLength(2);
    const row = await t.database.prisma.verification.findUniqueOrThrow({ where: { id: rawId(other.id) } });
    expect(row).toMatchObject({ attempts: 5, status: 'MAX_ATTEMPTS_REACHED' });
  });
});

describe('verifications and tenancy', () => {
  it('lists the account\'s verifications newest first, by number (any spelling) and status, each with its message', async () => {
    const account = await t.seedAccount();
    const a = await started(account.sender, { to: TO });
    const b = await started(account.sender, { to: '+14155550124' });
    await check(account.sender, TO, await sentCode(t, a.id));
    const all = await list(account.admin);
    expect(all.map((v) => v.id)).toEqual([b.id, a.id]);
    expect(all[0].message).toMatchObject({ id: expect.any(String), status: 'QUEUED' });
    expect((await list(account.sender, { to: '+1 (415) 555-0124' })).map((v) => v.id)).toEqual([b.id]);
    expect((await list(account.sender, { status: 'APPROVED' })).map((v) => v.id)).toEqual([a.id]);
  });

  it("never shows or checks another account's verifications", async () => {
    const owner = await t.seedAccount();
    const stranger = await t.seedAccount();
    const verification = await started(owner.sender, { to: TO });
    const code = await sentCode(t, verification.id);
    expect(await check(stranger.sender, TO, code)).toMatchObject({ reason: 'NOT_FOUND' });
    expect(await list(stranger.sender)).toEqual([]);
    const node = `query($id: ID!) { node(id: $id) { id ... on Verification { status } } }`;
    expect(expectNoErrors(await stranger.sender(node, { id: verification.id })).node).toBeNull();
    expect(expectNoErrors(await owner.sender(node, { id: verification.id })).node).toEqual({ id: verification.id, status: 'PENDING' });
    // The stranger's wrong guesses used none of the owner's attempts.
    expect(await check(owner.sender, TO, code)).toMatchObject({ data: { status: 'APPROVED', attempts: 1 } });
  });
});

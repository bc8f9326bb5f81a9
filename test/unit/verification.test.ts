import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.js';
import {
  attemptsLeftOf,
  codeMatches,
  decideCheck,
  DEFAULT_CODE_LENGTH,
  DEFAULT_TTL_SECONDS,
  generateCode,
  hashCode,
  parseStartInput,
  parseSubmittedCode,
  type VerificationState,
} from '../../src/domain/verification.js';
import {
  DEFAULT_PREFIX_VELOCITY,
  isCountryAllowed,
  numberPrefix,
  numberWaitSeconds,
  parseAllowedCountries,
  parsePrefixVelocity,
  resolvePrefixVelocity,
  windowWaitSeconds,
} from '../../src/domain/verification-limits.js';
import { checkOtpTemplate, chooseOtpLocale, otpTemplateValues, renderDefaultOtpBody, ttlMinutes } from '../../src/domain/verification-templates.js';

const now = new Date('2026-01-01T12:00:00Z');
const seconds = (s: number) => new Date(now.getTime() + s * 1000);
const key = Buffer.alloc(32, 7);

describe('generateCode', () => {
  it('draws every digit from the injected generator, keeping leading zeros', () => {
    const digits = [0, 0, 4, 2, 9, 1];
    expect(generateCode(6, () => digits.shift()!)).toBe('004291');
  });

  it('asks the generator for one decimal digit at a time (uniform, no modulo bias)', () => {
    const asked: number[] = [];
    generateCode(4, (max) => (asked.push(max), 1));
    expect(asked).toEqual([10, 10, 10, 10]);
  });

  it('makes codes of 4 to 10 digits from the CSPRNG by default, and refuses other lengths', () => {
    for (const length of [4, 6, 10]) expect(generateCode(length)).toMatch(new RegExp(`^\\d{${length}}$`));
    expect(() => generateCode(3)).toThrow(RangeError);
    expect(() => generateCode(11)).toThrow(RangeError);
  });
});

describe('hashCode and codeMatches', () => {
  it('is an HMAC-SHA256 over "id:code" that depends on the key, the verification and the code', () => {
    const hash = hashCode(key, 'v1', '123456');
    expect(hash).toHaveLength(32);
    expect(hash.toString('hex')).not.toContain('123456');
    expect(hashCode(key, 'v1', '123456')).toEqual(hash);
    expect(hashCode(Buffer.alloc(32, 8), 'v1', '123456')).not.toEqual(hash);
    expect(hashCode(key, 'v2', '123456')).not.toEqual(hash);
    expect(hashCode(key, 'v1', '123457')).not.toEqual(hash);
  });

  it('matches only the right code for the right verification, and never a stored value of another length', () => {
    const stored = new Uint8Array(hashCode(key, 'v1', '123456'));
    expect(codeMatches(key, 'v1', '123456', stored)).toBe(true);
    expect(codeMatches(key, 'v1', '654321', stored)).toBe(false);
    expect(codeMatches(key, 'v2', '123456', stored)).toBe(false);
    expect(codeMatches(key, 'v1', '123456', stored.subarray(0, 16))).toBe(false);
  });
});

describe('parseStartInput', () => {
  it('applies the defaults: 6 digits, valid 10 minutes', () => {
    expect(parseStartInput({ to: '+14155550123' })).toEqual({ templateId: null, codeLength: DEFAULT_CODE_LENGTH, ttlSeconds: DEFAULT_TTL_SECONDS, locale: null });
    expect(DEFAULT_TTL_SECONDS).toBe(600);
  });

  it('accepts codes of 4 to 10 digits and lifetimes of 60 s to a day', () => {
    expect(parseStartInput({ to: 'x', codeLength: 4, ttlSeconds: 60 })).toMatchObject({ codeLength: 4, ttlSeconds: 60 });
    expect(parseStartInput({ to: 'x', codeLength: 10, ttlSeconds: 86_400, locale: 'zh-CN' })).toMatchObject({ codeLength: 10, ttlSeconds: 86_400, locale: 'zh-CN' });
  });

  it('reports every bad field at once, with its input path', () => {
    const result = parseStartInput({ to: ' ', codeLength: 3, ttlSeconds: 59, locale: '12' });
    expect(result).toBeInstanceOf(ValidationError);
    const paths = (result as ValidationError).issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(['input.to', 'input.codeLength', 'input.ttlSeconds', 'input.locale']);
    expect((parseStartInput({ to: 'x', codeLength: 11, ttlSeconds: 86_401 }) as ValidationError).issues).toHaveLength(2);
    expect(parseStartInput({ to: 'x', codeLength: 5.5 })).toBeInstanceOf(ValidationError);
  });
});

describe('parseSubmittedCode', () => {
  it('trims a code of 4 to 10 digits', () => {
    expect(parseSubmittedCode(' 012345 ')).toBe('012345');
  });

  it.each(['12a456', '123', '12345678901', '', '１２３４５６'])('refuses %j without using an attempt', (code) => {
    const result = parseSubmittedCode(code);
    expect(result).toBeInstanceOf(ValidationError);
    expect((result as ValidationError).issues[0].path).toEqual(['input', 'code']);
  });
});

describe('decideCheck', () => {
  const pending: VerificationState = { status: 'PENDING', attempts: 0, maxAttempts: 5, expiresAt: seconds(600) };

  it('approves the right code while pending, counting the attempt and stamping approvedAt', () => {
    expect(decideCheck(pending, true, now)).toEqual({ outcome: 'APPROVED', update: { status: 'APPROVED', attempts: 1, approvedAt: now } });
  });

  it('counts wrong codes down, and the last allowed wrong one ends the verification', () => {
    let state = pending;
    const left: number[] = [];
    for (let i = 0; i < 5; i++) {
      const decision = decideCheck(state, false, now);
      if (decision.outcome !== 'FAILED' || !decision.update) throw new Error('expected a counted failure');
      expect(decision.reason).toBe('INCORRECT_CODE');
      left.push(decision.attemptsLeft);
      state = { ...state, ...decision.update };
    }
    expect(left).toEqual([4, 3, 2, 1, 0]);
    expect(state).toMatchObject({ status: 'MAX_ATTEMPTS_REACHED', attempts: 5 });
    // Even the right code no longer approves.
    expect(decideCheck(state, true, now)).toEqual({ outcome: 'FAILED', reason: 'MAX_ATTEMPTS_REACHED', attemptsLeft: 0 });
  });

  it('judges expiry before the code: at expiresAt exactly a right code is EXPIRED, and no attempt is used', () => {
    expect(decideCheck(pending, true, seconds(599.999))).toMatchObject({ outcome: 'APPROVED' });
    expect(decideCheck(pending, true, seconds(600))).toEqual({
      outcome: 'FAILED',
      reason: 'EXPIRED',
      attemptsLeft: 0,
      update: { status: 'EXPIRED', attempts: 0 },
    });
    expect(decideCheck({ ...pending, status: 'EXPIRED' }, true, now)).toEqual({ outcome: 'FAILED', reason: 'EXPIRED', attemptsLeft: 0 });
  });

  it('finds nothing to check when there is no verification, or the latest was approved or replaced', () => {
    const notFound = { outcome: 'FAILED', reason: 'NOT_FOUND', attemptsLeft: 0 };
    expect(decideCheck(undefined, false, now)).toEqual(notFound);
    expect(decideCheck({ ...pending, status: 'APPROVED', attempts: 1 }, true, now)).toEqual(notFound);
    expect(decideCheck({ ...pending, status: 'CANCELED' }, true, now)).toEqual(notFound);
  });

  it('closes a pending verification whose attempts are somehow used up instead of checking more', () => {
    expect(decideCheck({ ...pending, attempts: 5 }, true, now)).toMatchObject({ reason: 'MAX_ATTEMPTS_REACHED', update: { status: 'MAX_ATTEMPTS_REACHED', attempts: 5 } });
  });

  it('shows attempts left only while pending', () => {
    expect(attemptsLeftOf({ status: 'PENDING', attempts: 2, maxAttempts: 5 })).toBe(3);
    expect(attemptsLeftOf({ status: 'APPROVED', attempts: 1, maxAttempts: 5 })).toBe(0);
  });
});

describe('per-number limits', () => {
  it('lets the first code go, then waits out the 60 s cool-down to the second', () => {
    expect(numberWaitSeconds([], now)).toBe(0);
    expect(numberWaitSeconds([seconds(-1)], now)).toBe(59);
    expect(numberWaitSeconds([seconds(-59.5)], now)).toBe(1);
    expect(numberWaitSeconds([seconds(-60)], now)).toBe(0);
  });

  it('allows 5 codes per 10 minutes: the 6th waits until the oldest of the 5 leaves the window', () => {
    const five = [-61, -120, -200, -300, -400].map(seconds);
    expect(numberWaitSeconds(five, now)).toBe(200);
    expect(numberWaitSeconds(five.slice(0, 4), now)).toBe(0);
    // One that left the window long ago does not count.
    expect(numberWaitSeconds([...five.slice(0, 4), seconds(-601)], now)).toBe(0);
  });

  it('waits for the longer of the cool-down and the window', () => {
    expect(numberWaitSeconds([-10, -20, -30, -40, -599].map(seconds), now)).toBe(50);
  });

  it('rounds a window wait up to whole seconds', () => {
    expect(windowWaitSeconds(seconds(-0.2), 1, now)).toBe(1);
    expect(windowWaitSeconds(undefined, 60, now)).toBe(0);
  });
});

describe('anti-pumping rules', () => {
  it('counts numbers by their first digits after the +, country code included', () => {
    expect(numberPrefix('+14155550123', 7)).toBe('+1415555');
    expect(numberPrefix('+8613800138000', 7)).toBe('+8613800');
    expect(numberPrefix('+14155550123', 20)).toBe('+14155550123');
  });

  it('uses 7 digits, 20 per hour unless the account set its own limit; a bad stored one falls back', () => {
    expect(DEFAULT_PREFIX_VELOCITY).toEqual({ prefixDigits: 7, max: 20, perSeconds: 3600 });
    expect(resolvePrefixVelocity(null)).toEqual(DEFAULT_PREFIX_VELOCITY);
    expect(resolvePrefixVelocity({ prefixDigits: 6, max: 3, perSeconds: 600 })).toEqual({ prefixDigits: 6, max: 3, perSeconds: 600 });
    expect(resolvePrefixVelocity({ prefixDigits: 'x' })).toEqual(DEFAULT_PREFIX_VELOCITY);
  });

  it('validates a submitted velocity limit field by field', () => {
    const result = parsePrefixVelocity({ prefixDigits: 0, max: 0, perSeconds: 10 }, ['input', 'otpPrefixVelocity']);
    expect((result as ValidationError).issues.map((i) => i.path.join('.'))).toEqual([
      'input.otpPrefixVelocity.prefixDigits',
      'input.otpPrefixVelocity.max',
      'input.otpPrefixVelocity.perSeconds',
    ]);
  });

  it('normalises an allow-list and refuses codes that are not countries with phone numbers', () => {
    expect(parseAllowedCountries(['us', ' CN', 'US'])).toEqual(['CN', 'US']);
    expect(parseAllowedCountries([])).toEqual([]);
    const bad = parseAllowedCountries(['US', 'XX', 'USA'], ['input', 'otpAllowedCountries']);
    expect((bad as ValidationError).issues.map((i) => i.path.join('.'))).toEqual(['input.otpAllowedCountries.1', 'input.otpAllowedCountries.2']);
  });

  it('allows every country with an empty list, else only listed ones (never a number of no country)', () => {
    expect(isCountryAllowed('CN', [])).toBe(true);
    expect(isCountryAllowed(undefined, [])).toBe(true);
    expect(isCountryAllowed('US', ['US', 'CA'])).toBe(true);
    expect(isCountryAllowed('CN', ['US', 'CA'])).toBe(false);
    expect(isCountryAllowed(undefined, ['US'])).toBe(false);
  });
});

describe('OTP text', () => {
  it('is English by default and Chinese for +86 numbers, unless a locale is asked for', () => {
    expect(chooseOtpLocale(null, '+14155550123')).toBe('en');
    expect(chooseOtpLocale(null, '+8613800138000')).toBe('zh');
    expect(chooseOtpLocale('zh-Hans-CN', '+14155550123')).toBe('zh');
    expect(chooseOtpLocale('en_GB', '+8613800138000')).toBe('en');
    expect(chooseOtpLocale('fr', '+33612345678')).toBeInstanceOf(ValidationError);
  });

  it('states the lifetime in whole minutes, never more than the truth', () => {
    expect(renderDefaultOtpBody('en', '123456', 600)).toBe('Your verification code is 123456. It expires in 10 minutes.');
    expect(renderDefaultOtpBody('en', '1234', 119)).toBe('Your verification code is 1234. It expires in 1 minute.');
    expect(renderDefaultOtpBody('zh', '123456', 300)).toBe('您的验证码是123456，5分钟内有效。');
    expect(ttlMinutes(86_400)).toBe(1440);
  });

  it('takes an OTP template with {{code}} and at most {{minutes}} besides', () => {
    expect(checkOtpTemplate({ category: 'OTP', variables: ['code'] })).toBeUndefined();
    expect(checkOtpTemplate({ category: 'OTP', variables: ['minutes', 'code'] })).toBeUndefined();
    const messages = (t: Parameters<typeof checkOtpTemplate>[0]) => checkOtpTemplate(t)?.issues.map((i) => i.message);
    expect(messages({ category: 'NOTIFICATION', variables: ['code'] })).toEqual(['must be an OTP template (this one is NOTIFICATION)']);
    expect(messages({ category: 'OTP', variables: ['pin'] })).toEqual(['the template must contain {{code}}', expect.stringContaining('{{pin}}')]);
  });

  it('fills exactly the variables the template uses', () => {
    expect(otpTemplateValues(['code'], '1234', 600)).toEqual({ code: '1234' });
    expect(otpTemplateValues(['code', 'minutes'], '1234', 600)).toEqual({ code: '1234', minutes: 10 });
  });
});

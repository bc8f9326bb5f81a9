import { describe, expect, it } from 'vitest';
import { apiKeyMatches, generateApiKey, parseApiKeyPrefix, readBearerToken } from '../../src/domain/api-key.js';
import { InvalidPhoneNumberError, NotFoundError, ValidationError } from '../../src/domain/errors.js';
import { draftMessage } from '../../src/domain/message-draft.js';
import { countryOfNumber, normalizePhoneNumber } from '../../src/domain/phone.js';
import { hashRequest } from '../../src/domain/request-hash.js';
import { analyzeBody, describeBodyWarnings } from '../../src/domain/segments.js';

const now = new Date('2026-01-01T00:00:00Z');
const options = { maxBodyLength: 1600, now };

describe('normalizePhoneNumber', () => {
  it.each([
    ['+86 138-0013-8000', '+8613800138000'],
    ['+1 (415) 555-0100', '+14155550100'],
    ['  +44 20 7183 8750 ', '+442071838750'],
  ])('normalises %s to %s', (input, e164) => {
    expect(normalizePhoneNumber(input)).toMatchObject({ ok: true, e164 });
  });

  it('reads national numbers in the default country only when one is configured', () => {
    expect(normalizePhoneNumber('138 0013 8000', 'CN')).toMatchObject({ ok: true, e164: '+8613800138000' });
    expect(normalizePhoneNumber('138 0013 8000').ok).toBe(false);
  });

  it.each(['12345', '', 'hello', '+1 555', '+86 123'])('refuses %j', (input) => {
    const result = normalizePhoneNumber(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toBeInstanceOf(InvalidPhoneNumberError);
  });
});

describe('countryOfNumber', () => {
  it('answers the country libphonenumber places the number in, asked once or again, and undefined for none', () => {
    for (let round = 0; round < 2; round++) {
      expect(countryOfNumber('+447400123456')).toBe('GB');
      expect(countryOfNumber('+447797123456')).toBe('JE'); // +44 shared: Jersey's mobiles
      expect(countryOfNumber('+14155550123')).toBe('US');
      expect(countryOfNumber('+999')).toBeUndefined();
    }
  });
});

describe('analyzeBody', () => {
  it('uses GSM-7 for plain text and counts escaped characters as one', () => {
    expect(analyzeBody('Hello {name}')).toEqual({ encoding: 'GSM7', segments: 1, characters: 12, nonGsmCharacters: [] });
  });
  it('splits 161 GSM characters into 2 segments and 71 Chinese characters into 2 UCS-2 segments', () => {
    expect(analyzeBody('a'.repeat(160)).segments).toBe(1);
    expect(analyzeBody('a'.repeat(161)).segments).toBe(2);
    expect(analyzeBody('你'.repeat(70))).toMatchObject({ encoding: 'UCS2', segments: 1 });
    expect(analyzeBody('你'.repeat(71))).toMatchObject({ encoding: 'UCS2', segments: 2 });
  });
  it('names each non-GSM character once and warns about it', () => {
    const analysis = analyzeBody('ok ✓✓ “x”');
    expect(analysis.nonGsmCharacters).toEqual(['✓', '“', '”']);
    expect(describeBodyWarnings(analysis).join()).toContain('✓');
  });
});

describe('API keys', () => {
  it('generates keys whose prefix parses back and whose hash matches only the same key', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(parseApiKeyPrefix(a.key)).toBe(a.prefix);
    expect(apiKeyMatches(a.key, a.secretHash)).toBe(true);
    expect(apiKeyMatches(b.key, a.secretHash)).toBe(false);
    expect(a.key).not.toBe(b.key);
  });
  it('refuses anything that is not shaped like a key', () => {
    expect(parseApiKeyPrefix('hk_short_x')).toBeUndefined();
    expect(parseApiKeyPrefix('')).toBeUndefined();
  });
  it('reads Bearer tokens and bare keys', () => {
    expect(readBearerToken('Bearer abc')).toBe('abc');
    expect(readBearerToken('bearer   abc ')).toBe('abc');
    expect(readBearerToken('abc')).toBe('abc');
    expect(readBearerToken(null)).toBeUndefined();
  });
});

describe('hashRequest', () => {
  it('ignores key order and absent values but not content', () => {
    expect(hashRequest({ a: 1, b: { c: 2, d: null } })).toBe(hashRequest({ b: { c: 2 }, a: 1 }));
    expect(hashRequest({ a: 1 })).not.toBe(hashRequest({ a: 2 }));
    expect(hashRequest({ at: new Date(0) })).toBe(hashRequest({ at: new Date(0) }));
  });
});

describe('draftMessage', () => {
  it('produces a QUEUED draft with normalised number and measured body', () => {
    expect(draftMessage({ to: '+86 138-0013-8000', body: 'hi' }, options)).toMatchObject({
      to: '+8613800138000',
      status: 'QUEUED',
      encoding: 'GSM7',
      segments: 1,
      scheduledAt: null,
    });
  });
  it('schedules only future times', () => {
    const future = new Date(now.getTime() + 60_000);
    expect(draftMessage({ to: '+14155550100', body: 'x', scheduledAt: future }, options)).toMatchObject({ status: 'SCHEDULED', scheduledAt: future });
    const past = new Date(now.getTime() - 60_000);
    expect(draftMessage({ to: '+14155550100', body: 'x', scheduledAt: past }, options)).toMatchObject({ status: 'QUEUED', scheduledAt: null });
    const tooFar = new Date(now.getTime() + 40 * 86400_000);
    expect(draftMessage({ to: '+14155550100', body: 'x', scheduledAt: tooFar }, options)).toBeInstanceOf(ValidationError);
  });
  it('reports the number together with other bad fields, and alone as InvalidPhoneNumberError', () => {
    const both = draftMessage({ to: '12345', body: '' }, options) as ValidationError;
    expect(both.issues.map((i) => i.path.join('.'))).toEqual(['input.body', 'input.to']);
    expect(draftMessage({ to: '12345', body: 'ok' }, options)).toBeInstanceOf(InvalidPhoneNumberError);
  });
  it('requires exactly one of body and templateId, and refuses unknown templates', () => {
    expect(draftMessage({ to: '+14155550100', body: 'x', templateId: 't' }, options)).toBeInstanceOf(ValidationError);
    expect(draftMessage({ to: '+14155550100', templateId: 't' }, options)).toBeInstanceOf(NotFoundError);
  });
  it('counts the length limit in characters, not UTF-16 units', () => {
    expect(draftMessage({ to: '+14155550100', body: '😀'.repeat(10) }, { ...options, maxBodyLength: 10 })).not.toBeInstanceOf(Error);
    expect(draftMessage({ to: '+14155550100', body: '😀'.repeat(11) }, { ...options, maxBodyLength: 10 })).toBeInstanceOf(ValidationError);
  });
});

describe('analyzeBody fast path', () => {
  it('agrees with sms-segments-calculator on random texts of the GSM basic set', async () => {
    const { SegmentedMessage } = await import('sms-segments-calculator');
    const basic = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
    for (let i = 0; i < 2000; i++) {
      const length = 1 + ((i * 7919) % 480);
      let text = '';
      for (let j = 0; j < length; j++) text += basic[(i * 31 + j * 17) % basic.length];
      const reference = new SegmentedMessage(text, 'auto', false);
      expect(analyzeBody(text)).toMatchObject({ encoding: 'GSM7', segments: reference.segmentsCount, characters: reference.numberOfUnicodeScalars });
    }
  });
});

describe('sealing secrets in message bodies', async () => {
  const { maskSecret, openSealed, sealText } = await import('../../src/domain/sealing.js');
  const { randomBytes } = await import('node:crypto');
  it('round-trips, refuses a wrong key or altered bytes, and masks every occurrence', () => {
    const key = randomBytes(32);
    const sealed = sealText(key, 'Your code is 123456');
    expect(openSealed(key, sealed)).toBe('Your code is 123456');
    expect(sealed.toString('latin1')).not.toContain('123456');
    expect(() => openSealed(randomBytes(32), sealed)).toThrow();
    const altered = Buffer.from(sealed);
    altered[altered.length - 1] ^= 1;
    expect(() => openSealed(key, altered)).toThrow();
    expect(maskSecret('code 123456, again 123456', '123456')).toBe('code ••••••, again ••••••');
  });
});

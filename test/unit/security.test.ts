// Security helpers without a server: constant-time key checks, the log scrubber and logger
// redaction (every written line, error logs included), and the security limits' variables.
import { afterEach, describe, expect, it, vi } from 'vitest';

// Counts calls to timingSafeEqual while keeping the real one.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const crypto = await import('node:crypto');
const { apiKeyMatches, generateApiKey, parseApiKeyPrefix } = await import('../../src/domain/api-key.js');
const { ConfigError, loadConfig } = await import('../../src/config/config.js');
const { createLogger } = await import('../../src/logging/logger.js');
const { configuredSecrets, createScrubber, maskPhoneNumbersIn } = await import('../../src/logging/log-scrub.js');

afterEach(() => vi.mocked(crypto.timingSafeEqual).mockClear());

describe('API key comparison', () => {
  it('refuses a key that differs from the stored one in any single character, comparing hashes in constant time', () => {
    const { key, secretHash } = generateApiKey();
    expect(apiKeyMatches(key, secretHash)).toBe(true);
    const secretStart = key.lastIndexOf('_') + 1;
    for (let i = secretStart; i < key.length; i++) {
      const altered = key.slice(0, i) + (key[i] === 'A' ? 'B' : 'A') + key.slice(i + 1);
      expect(parseApiKeyPrefix(altered)).toBe(parseApiKeyPrefix(key)); // same prefix: found by the lookup
      expect({ i, matches: apiKeyMatches(altered, secretHash) }).toEqual({ i, matches: false });
    }
    // Every comparison went through timingSafeEqual (same-length SHA-256 digests), none through ===.
    expect(vi.mocked(crypto.timingSafeEqual)).toHaveBeenCalledTimes(1 + key.length - secretStart);
  });

  it('reads only the public prefix for the lookup, and nothing from a malformed key', () => {
    const { key, prefix } = generateApiKey();
    expect(parseApiKeyPrefix(key)).toBe(prefix);
    for (const bad of ['', key + 'x', key.slice(0, -1), key.replace('hk_', 'hx_'), `${key} `]) expect(parseApiKeyPrefix(bad)).toBeUndefined();
  });
});

const API_KEY = 'hk_abcdefghij_' + 'S'.repeat(20) + '-_' + 'T'.repeat(21);
const SECRETS = {
  twilio: 'twilio-auth-token-0123456789abcdef',
  aliyun: 'aliyun+Access/Key=Secret0123',
  aliyunCallback: 'aliyun-callback-token-0123456789',
  tencent: 'tencentSecretKey0123456789ABCDEF',
  tencentCallback: 'tencent-callback-token-012345678',
  smpp: 'smpp-pa$$word',
};

function configWithSecrets() {
  return loadConfig({
    LOG_LEVEL: 'trace',
    SMS_PROVIDERS: 'simulator,twilio,aliyun,tencent,smpp',
    TWILIO_ACCOUNT_SID: 'AC0123',
    TWILIO_AUTH_TOKEN: SECRETS.twilio,
    TWILIO_FROM: '+14155550100',
    ALIYUN_ACCESS_KEY_ID: 'LTAI0123',
    ALIYUN_ACCESS_KEY_SECRET: SECRETS.aliyun,
    ALIYUN_SIGN_NAME: 'Herald',
    ALIYUN_CALLBACK_TOKEN: SECRETS.aliyunCallback,
    TENCENT_SECRET_ID: 'AKID0123',
    TENCENT_SECRET_KEY: SECRETS.tencent,
    TENCENT_SMS_SDK_APP_ID: '1400000000',
    TENCENT_SIGN_NAME: 'Herald',
    TENCENT_CALLBACK_TOKEN: SECRETS.tencentCallback,
    SMPP_URL: `smpp://herald:${SECRETS.smpp}@127.0.0.1:2775`,
  });
}

describe('log redaction', () => {
  it('writes no API key, Authorization header, provider secret or SMPP password in any line, errors included', () => {
    const config = configWithSecrets();
    const lines: string[] = [];
    const logger = createLogger(config, { write: (line: string) => void lines.push(line) });

    logger.info({ req: { method: 'POST', headers: { authorization: `Bearer ${API_KEY}` } } }, 'request');
    logger.warn({ headers: { authorization: `Bearer ${API_KEY}`, 'x-other': 'kept' } }, 'webhook rejected');
    logger.debug({ connectionParams: { authorization: API_KEY } }, 'ws connect');
    logger.info({ config }, 'configuration'); // a whole config object, if anyone ever logs one
    logger.info({ twilio: config.twilio, aliyun: config.aliyun, tencent: config.tencent, smpp: config.smpp }, 'providers');
    logger.error({ err: new Error(`authentication failed for key ${API_KEY} (header "Bearer ${API_KEY}")`) }, 'request failed');
    logger.error({ err: new Error(`bind refused by smpp://herald:${SECRETS.smpp}@127.0.0.1:2775`) }, 'smpp connection error');
    logger.error({ err: new Error(`HTTP 401 from provider; signed with ${SECRETS.aliyun} and ${SECRETS.tencent}`) }, 'provider call failed');
    logger.error({ url: `https://AC0123:${SECRETS.twilio}@api.twilio.com/2010-04-01/Accounts/AC0123/Messages.json` }, 'twilio call failed');
    logger.warn(`callback tokens ${SECRETS.aliyunCallback} ${SECRETS.tencentCallback}`);
    logger.error({ err: new Error('db down'), query: `UPDATE "ApiKey" SET ... WHERE key = '${API_KEY}'` }, 'query failed');

    expect(lines).toHaveLength(11);
    const leaks = [API_KEY, ...Object.values(SECRETS), encodeURIComponent(SECRETS.smpp)].flatMap((secret) =>
      lines.filter((line) => line.includes(secret) || line.includes(JSON.stringify(secret).slice(1, -1))).map((line) => ({ secret, line })),
    );
    expect(leaks).toEqual([]);
    // What is not secret stays readable: the key's public prefix, the error messages, other headers.
    const all = lines.join('\n');
    expect(all).toContain('hk_abcdefghij_[redacted]');
    expect(all).toContain('authentication failed for key');
    expect(all).toContain('"x-other":"kept"');
    expect(all).toContain('smpp://herald:[redacted]@127.0.0.1:2775');
  });

  it('scrubs free text: API keys keep their prefix, bearer tokens and URL passwords go, configured secrets go however quoted', () => {
    const scrub = createScrubber(configuredSecrets({ twilio: { authToken: 'tok"en\\123' } as never, redisUrl: 'redis://:r3dis@127.0.0.1:6379' }));
    expect(scrub(`key ${API_KEY} used`)).toBe('key hk_abcdefghij_[redacted] used');
    expect(scrub('Authorization: Bearer abc.def-ghi')).toBe('Authorization: Bearer [redacted]');
    expect(scrub('postgres://user:pw@db:5432/herald')).toBe('postgres://user:[redacted]@db:5432/herald');
    expect(scrub(JSON.stringify({ msg: 'token tok"en\\123' }))).toBe(JSON.stringify({ msg: 'token [redacted]' }));
    expect(scrub('password r3dis leaked')).toBe('password [redacted] leaked');
    expect(scrub('nothing secret here: +14155550100')).toBe('nothing secret here: +14155550100');
    expect(scrub('{"authorization":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"}')).toBe('{"authorization":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.[redacted]"}');
  });
});

describe('phone numbers in logs', () => {
  const number = '+8613800138000';
  // The number in every format a log line could carry it in.
  const formats = [number, '+86 138 0013 8000', '+86-138-0013-8000', '+86 (138) 0013-8000', '+86.138.0013.8000'];

  it('are masked in free text and in number fields, in every format, by default', () => {
    const lines: string[] = [];
    const logger = createLogger({ logLevel: 'info' }, { write: (line: string) => void lines.push(line) });
    for (const f of formats) logger.warn({ to: f, from: '13800138000', msisdn: '8613800138000' }, `opt-out for ${f} recorded`);
    logger.error({ err: new Error(`provider refused ${number}: bad destination`) }, 'send failed');
    const written = lines.join('\n');
    for (const digits of ['13800138000', '138 0013 8000', '138-0013-8000', '0013', '00138']) expect(written).not.toContain(digits);
    expect(written).toContain('+86 138****8000');
    // Everything else in the line is kept: the level, the message, timestamps.
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, to: '+86 138****8000', from: '*********00', msg: 'opt-out for +86 138****8000 recorded' });
    expect(typeof JSON.parse(lines[0]!).time).toBe('number');
  });

  it('are kept whole with LOG_PHONE_NUMBERS=full (local debugging)', () => {
    const lines: string[] = [];
    const logger = createLogger({ logLevel: 'info', logPhoneNumbers: 'full' }, { write: (line: string) => void lines.push(line) });
    logger.info({ to: number }, 'sent');
    expect(lines[0]).toContain(number);
  });

  it('leave timestamps, counts, ids and dates alone', () => {
    const line = '{"time":1764795907123,"count":12345678,"id":"cm4x1y2z30000","at":"2026-12-03T21:05:07.000+00:00","port":5432}';
    expect(maskPhoneNumbersIn(line)).toBe(line);
  });
});

describe('security limits configuration', () => {
  it('has generous defaults and reads MAX_REQUEST_BYTES and GRAPHQL_MAX_* from the environment', () => {
    expect(loadConfig({}).maxRequestBytes).toBe(1024 * 1024);
    expect(loadConfig({}).graphqlLimits).toEqual({ maxDepth: 15, maxAliases: 30, maxTokens: 5000, maxDirectives: 50, maxCost: 50_000 });
    const tight = loadConfig({
      MAX_REQUEST_BYTES: '65536',
      GRAPHQL_MAX_DEPTH: '5',
      GRAPHQL_MAX_ALIASES: '2',
      GRAPHQL_MAX_TOKENS: '300',
      GRAPHQL_MAX_DIRECTIVES: '1',
      GRAPHQL_MAX_COST: '100',
    });
    expect(tight.maxRequestBytes).toBe(65536);
    expect(tight.graphqlLimits).toEqual({ maxDepth: 5, maxAliases: 2, maxTokens: 300, maxDirectives: 1, maxCost: 100 });
    expect(() => loadConfig({ GRAPHQL_MAX_DEPTH: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ MAX_REQUEST_BYTES: 'lots' })).toThrow(/MAX_REQUEST_BYTES/);
  });
});

import { describe, expect, it } from 'vitest';
import { accessTokenInputSchema, kidInForce, looksLikeAccessToken, readTokenClaims, signingKid } from '../../src/domain/access-token.js';
import { createLimiter } from '../../src/limits/limiter.js';

const DAY_MS = 86_400_000;
const at = (ms: number) => new Date(ms);

describe('access token signing keys', () => {
  const dayStart = 20_000 * DAY_MS;

  it('sign with the key of the day', () => {
    expect(signingKid(at(dayStart))).toBe('atk-20000');
    expect(signingKid(at(dayStart + DAY_MS - 1))).toBe('atk-20000');
    expect(signingKid(at(dayStart + DAY_MS))).toBe('atk-20001');
  });

  it("verify with a day's key until its longest-lived token has expired, then never again", () => {
    expect(kidInForce('atk-20000', at(dayStart + DAY_MS + 3600_000))).toBe(true);
    expect(kidInForce('atk-20000', at(dayStart + DAY_MS + 3600_000 + 61_000))).toBe(false);
    expect(kidInForce('atk-19990', at(dayStart))).toBe(false);
  });

  it("accept the next day's key only within the clock skew before it begins", () => {
    expect(kidInForce('atk-20001', at(dayStart + DAY_MS - 30_000))).toBe(true);
    expect(kidInForce('atk-20001', at(dayStart + DAY_MS - 120_000))).toBe(false);
  });

  it('refuse a kid of any other shape (so a made-up kid never creates a key)', () => {
    for (const kid of ['', 'atk-', 'atk-x', 'atk-20000-1', '../atk-20000', 'atk-12345678901']) expect(kidInForce(kid, at(dayStart))).toBe(false);
  });
});

describe('access token input', () => {
  it('needs a grant, a rate with templates, and at most an hour', () => {
    expect(accessTokenInputSchema.safeParse({ inbound: true }).success).toBe(true);
    expect(accessTokenInputSchema.safeParse({}).success).toBe(false);
    expect(accessTokenInputSchema.safeParse({ inbound: false, messages: [] }).success).toBe(false);
    expect(accessTokenInputSchema.safeParse({ sendTemplates: ['t'] }).success).toBe(false);
    expect(accessTokenInputSchema.safeParse({ sendTemplates: ['t'], sendPerMinute: 0 }).success).toBe(false);
    expect(accessTokenInputSchema.safeParse({ sendTemplates: ['t'], sendPerMinute: 10 }).success).toBe(true);
    expect(accessTokenInputSchema.safeParse({ inbound: true, ttlSeconds: 3600 }).success).toBe(true);
    expect(accessTokenInputSchema.safeParse({ inbound: true, ttlSeconds: 3601 }).success).toBe(false);
    expect(accessTokenInputSchema.safeParse({ messages: Array.from({ length: 101 }, (_, i) => String(i)) }).success).toBe(false);
    expect(accessTokenInputSchema.safeParse({ sendTemplates: Array.from({ length: 21 }, (_, i) => String(i)), sendPerMinute: 1 }).success).toBe(false);
  });
});

describe('access token claims', () => {
  const scope = { messages: ['m'], batch: null, inbound: false, send: null };

  const jti = '0b9e3c1e-5d2a-4f6b-9a51-2c7d8e9f0a1b';

  it('read as the principal and its parent key', () => {
    expect(readTokenClaims({ sub: 'key', jti, exp: 1000, acct: 'acct', scope })).toEqual({
      parentKeyId: 'key',
      accountId: 'acct',
      principal: { tokenId: jti, expiresAt: new Date(1_000_000), scope },
    });
  });

  it('refuse an id that is not a uuid (a sent message records it in a uuid column)', () => {
    expect(readTokenClaims({ sub: 'key', jti: 'tok', exp: 1000, acct: 'acct', scope })).toBeUndefined();
  });

  it('refuse a payload missing its account, scope or id', () => {
    expect(readTokenClaims({ sub: 'key', jti: 'tok', exp: 1000, scope })).toBeUndefined();
    expect(readTokenClaims({ sub: 'key', jti: 'tok', exp: 1000, acct: 'a' })).toBeUndefined();
    expect(readTokenClaims({ sub: 'key', exp: 1000, acct: 'a', scope })).toBeUndefined();
  });

  it('tell a token from an API key', () => {
    expect(looksLikeAccessToken('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig')).toBe(true);
    expect(looksLikeAccessToken(`hk_abcdefghij_${'A'.repeat(43)}`)).toBe(false);
    expect(looksLikeAccessToken('eyJ.only-two')).toBe(false);
  });
});

describe("an access token's send rate", () => {
  it('allows perMinute sends, refuses the next with a retry time, and counts each token apart', async () => {
    const limiter = createLimiter();
    for (let i = 0; i < 3; i++) expect(await limiter.consumeTokenSend('acct', 'tok-1', 3)).toBeUndefined();
    const refused = await limiter.consumeTokenSend('acct', 'tok-1', 3);
    expect(refused?.code).toBe('RATE_LIMITED');
    expect(refused?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(refused?.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(await limiter.consumeTokenSend('acct', 'tok-2', 3)).toBeUndefined();
    await limiter.close();
  });
});

// Browser access tokens: what one grants (its scope), how long it lives, and which signing key
// (`kid`) signs and verifies it when. Pure: services/access-tokens.ts signs and verifies with
// these rules, schema/token-scope.ts applies the scope to each operation.
//
// A token is a JWT (HS256) that names its parent API key, the account and the scope. Signed, not
// stored: minting costs no write, and a page that mints one per view does not grow a table. What
// a signed token cannot do alone, being ended early, it gets from its parent key: every use checks
// that the key is still valid (through the in-memory key reads that every revocation empties), so
// revoking the key ends all its tokens at once.
import { z } from 'zod';

/** The longest a token may live (seconds): an hour, as a page is expected to fetch a new one. */
export const ACCESS_TOKEN_MAX_SECONDS = 3600;
export const ACCESS_TOKEN_DEFAULT_SECONDS = 600;
/**
 * Ids one token may name: a page watches a few messages, not a campaign (that is a batch). The
 * token carries them, and must fit an HTTP header (~4 KB at 100 ids).
 */
export const ACCESS_TOKEN_MAX_IDS = 100;
export const ACCESS_TOKEN_MAX_TEMPLATES = 20;
export const ACCESS_TOKEN_MAX_SENDS_PER_MINUTE = 600;
/** The `iss` of every token; `aud` is this Herald's PUBLIC_URL (or this same word without one). */
export const ACCESS_TOKEN_ISSUER = 'herald';

/** The `aud` of this Herald's tokens: its PUBLIC_URL, else the issuer's word. */
export const accessTokenAudience = (publicUrl: string | undefined) => publicUrl ?? ACCESS_TOKEN_ISSUER;

/** What a token may do. Ids are database ids (uuids). */
export interface AccessScope {
  /** Messages it may read and watch. */
  messages: string[];
  /** A batch it may read and watch (its messages included). */
  batch: string | null;
  /** Whether it may read and watch the account's inbound messages. */
  inbound: boolean;
  /** Sending: only with these templates, at most `perMinute` messages a minute. */
  send: { templates: string[]; perMinute: number } | null;
}

/** A verified token, as an operation's Auth carries it (Auth.keyId is its parent key). */
export interface TokenPrincipal {
  /** The token's own id (`jti`): its send rate is counted under it. */
  tokenId: string;
  expiresAt: Date;
  scope: AccessScope;
}

const ids = z.array(z.string()).max(ACCESS_TOKEN_MAX_IDS, `at most ${ACCESS_TOKEN_MAX_IDS} ids`);

/** createAccessToken's input, ids still as given (global or raw). */
export const accessTokenInputSchema = z
  .object({
    messages: ids.nullish(),
    batch: z.string().nullish(),
    inbound: z.boolean().nullish(),
    sendTemplates: z.array(z.string()).max(ACCESS_TOKEN_MAX_TEMPLATES, `at most ${ACCESS_TOKEN_MAX_TEMPLATES} templates`).nullish(),
    sendPerMinute: z.number().int().min(1).max(ACCESS_TOKEN_MAX_SENDS_PER_MINUTE).nullish(),
    ttlSeconds: z
      .number()
      .int()
      .min(1)
      .max(ACCESS_TOKEN_MAX_SECONDS, `at most ${ACCESS_TOKEN_MAX_SECONDS} seconds: a page asks for a new token instead`)
      .nullish(),
  })
  .superRefine((input, ctx) => {
    const sends = (input.sendTemplates?.length ?? 0) > 0;
    if (sends && !input.sendPerMinute) ctx.addIssue({ code: 'custom', path: ['sendPerMinute'], message: 'required with sendTemplates: a token that sends states its rate' });
    if (!sends && input.sendPerMinute) ctx.addIssue({ code: 'custom', path: ['sendTemplates'], message: 'sendPerMinute needs the templates the token may send with' });
    if (!input.messages?.length && !input.batch && !input.inbound && !sends) {
      ctx.addIssue({ code: 'custom', path: [], message: 'a token must grant something: messages, batch, inbound or sendTemplates' });
    }
  });

export type AccessTokenInput = z.infer<typeof accessTokenInputSchema>;

/** The claims Herald puts in a token besides the registered ones (iss, aud, sub, jti, iat, exp). */
export interface AccessTokenClaims {
  /** The account (the parent key's). */
  acct: string;
  scope: AccessScope;
}

const claimsSchema = z.object({
  sub: z.string().min(1),
  // Herald mints uuids; a sent message records it in a uuid column (Message.accessTokenId).
  jti: z.uuid(),
  exp: z.number(),
  acct: z.string().min(1),
  scope: z.object({
    messages: z.array(z.string()).max(ACCESS_TOKEN_MAX_IDS),
    batch: z.string().nullable(),
    inbound: z.boolean(),
    send: z.object({ templates: z.array(z.string()).max(ACCESS_TOKEN_MAX_IDS), perMinute: z.number().int().min(1) }).nullable(),
  }),
});

/** A verified JWT's payload as Herald's principal, or undefined if it is not a Herald token's shape. */
export function readTokenClaims(payload: unknown): { parentKeyId: string; accountId: string; principal: TokenPrincipal } | undefined {
  const parsed = claimsSchema.safeParse(payload);
  if (!parsed.success) return undefined;
  const { sub, jti, exp, acct, scope } = parsed.data;
  return { parentKeyId: sub, accountId: acct, principal: { tokenId: jti, expiresAt: new Date(exp * 1000), scope } };
}

/**
 * Whether a bearer string is shaped like a JWT (three base64url parts, a JSON header) rather
 * than an API key (`hk_…`): which of the two verifications it gets.
 */
export function looksLikeAccessToken(bearer: string): boolean {
  return /^eyJ[\w-]*\.[\w-]+\.[\w-]+$/.test(bearer);
}

// Signing keys rotate by themselves: the key of day N signs the tokens minted that day (kid
// `atk-N`), and verifies them for as long as they can live, i.e. until an hour into day N+1.
// Every instance computes the same kid from its clock and reads the same key from the database,
// so rotation needs no coordination, no job and no operator.
const ROTATION_SECONDS = 86_400;
/** Clocks of two instances may differ this much around a rotation. */
const CLOCK_SKEW_SECONDS = 60;

const kidOf = (period: number) => `atk-${period}`;

/** The kid of the key that signs tokens minted at `now`. */
export function signingKid(now: Date): string {
  return kidOf(Math.floor(now.getTime() / 1000 / ROTATION_SECONDS));
}

/**
 * Whether a token naming `kid` can still be valid at `now`: its key's day has begun (within the
 * clock skew) and the longest-lived token of that day has not yet expired. Anything else (an old
 * key, a made-up kid) is refused before any key is read, so a kid from outside never makes
 * Herald create a key.
 */
export function kidInForce(kid: string, now: Date): boolean {
  const match = /^atk-(\d{1,10})$/.exec(kid);
  if (!match) return false;
  const start = Number(match[1]) * ROTATION_SECONDS;
  const seconds = now.getTime() / 1000;
  return seconds >= start - CLOCK_SKEW_SECONDS && seconds <= start + ROTATION_SECONDS + ACCESS_TOKEN_MAX_SECONDS + CLOCK_SKEW_SECONDS;
}

/** The Setting name of the signing key with this kid (store/secrets.ts creates it on first use). */
export const signingKeySetting = (kid: string) => `accessToken.signingKey.${kid}`;

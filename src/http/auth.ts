import { GraphQLError } from 'graphql';
import type { RateLimitedError } from '../domain/errors.js';
import { looksLikeAccessToken } from '../domain/access-token.js';
import { readBearerToken, type Auth } from '../domain/api-key.js';
import { authenticateAccessToken, TokenRefused } from '../services/access-tokens.js';
import { authenticateApiKey } from '../services/api-keys.js';
import type { Store } from '../store/store.js';

/** What authentication reads: keys (and their cache), the token signing keys, this Herald's audience. */
export interface AuthDeps {
  store: Pick<Store, 'apiKeys' | 'secrets' | 'prisma'>;
  /** The `aud` access tokens must name (config: PUBLIC_URL, else "herald"). */
  tokenAudience: string;
}

/** The error every unauthenticated GraphQL request gets (HTTP 401 on plain HTTP). */
export function unauthenticated(reason: string): GraphQLError {
  return new GraphQLError(reason, {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="herald"' } } },
  });
}

/**
 * Resolves `Authorization: Bearer <key or access token>` (or the same string from
 * connectionParams). A refused access token is told why (expired, another audience, …).
 */
export async function authenticate(deps: AuthDeps, authorization: unknown): Promise<Auth> {
  if (typeof authorization !== 'string' || !authorization.trim()) {
    throw unauthenticated('an API key is required: send "Authorization: Bearer <key>"');
  }
  const bearer = readBearerToken(authorization);
  if (bearer && looksLikeAccessToken(bearer)) {
    const auth = await authenticateAccessToken({ ...deps.store, audience: deps.tokenAudience }, bearer);
    if (auth instanceof TokenRefused) throw unauthenticated(auth.message);
    return auth;
  }
  const auth = await authenticateApiKey(deps.store.apiKeys, bearer);
  if (!auth) throw unauthenticated('the API key is invalid or revoked');
  return auth;
}

/** Whether `authorization` presents an access token (not an API key). */
export function presentsAccessToken(authorization: unknown): boolean {
  const bearer = typeof authorization === 'string' ? readBearerToken(authorization) : undefined;
  return bearer !== undefined && looksLikeAccessToken(bearer);
}

/** A request refused by the per-key rate: HTTP 429 with Retry-After, code RATE_LIMITED. */
export function rateLimited(error: RateLimitedError): GraphQLError {
  return new GraphQLError(error.message, {
    extensions: {
      code: 'RATE_LIMITED',
      retryAfterSeconds: error.retryAfterSeconds,
      http: { status: 429, headers: { 'Retry-After': String(error.retryAfterSeconds) } },
    },
  });
}

import { GraphQLError } from 'graphql';
import type { RateLimitedError } from '../domain/errors.js';
import { readBearerToken, type Auth } from '../domain/api-key.js';
import { authenticateApiKey } from '../services/api-keys.js';
import type { Store } from '../store/store.js';

/** The error every unauthenticated GraphQL request gets (HTTP 401 on plain HTTP). */
export function unauthenticated(reason: string): GraphQLError {
  return new GraphQLError(reason, {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="herald"' } } },
  });
}

/** Resolves `Authorization: Bearer <key>` (or the same string from connectionParams). */
export async function authenticate(store: Pick<Store, 'apiKeys'>, authorization: unknown): Promise<Auth> {
  if (typeof authorization !== 'string' || !authorization.trim()) {
    throw unauthenticated('an API key is required: send "Authorization: Bearer <key>"');
  }
  const auth = await authenticateApiKey(store.apiKeys, readBearerToken(authorization));
  if (!auth) throw unauthenticated('the API key is invalid or revoked');
  return auth;
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

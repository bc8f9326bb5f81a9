import { GraphQLError } from 'graphql';
import type { PrismaClient } from './db/database.js';
import type { RateLimitedError } from './domain/errors.js';
import { readBearerToken } from './domain/api-key.js';
import type { Auth } from './schema/context.js';
import { authenticateApiKey } from './services/api-keys.js';

/** The error every unauthenticated GraphQL request gets (HTTP 401 on plain HTTP). */
export function unauthenticated(reason: string): GraphQLError {
  return new GraphQLError(reason, {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="herald"' } } },
  });
}

/** Resolves `Authorization: Bearer <key>` (or the same string from connectionParams). */
export async function authenticate(prisma: PrismaClient, authorization: unknown): Promise<Auth> {
  if (typeof authorization !== 'string' || !authorization.trim()) {
    throw unauthenticated('an API key is required: send "Authorization: Bearer <key>"');
  }
  const auth = await authenticateApiKey(prisma, readBearerToken(authorization));
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

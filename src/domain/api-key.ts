import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TokenPrincipal } from './access-token.js';

// Key format: `hk_<prefix>_<secret>`. The prefix (10 base32 chars, 50 bits) is stored in
// clear and indexed so a lookup needs no scan; the secret (32 random bytes) never is. Only
// SHA-256 of the whole key is kept: a fast hash is right for 256-bit random secrets, which
// cannot be brute-forced, and keeps per-request authentication cheap.
const KEY_PATTERN = /^hk_([a-z2-7]{10})_([A-Za-z0-9_-]{43})$/;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

export type ApiKeyRole = 'ADMIN' | 'SENDER';

/** Who is calling: resolved from the API key (or access token) before any operation runs. */
export interface Auth {
  /** The API key; for an access token, the key that minted it (revoking it ends the token). */
  keyId: string;
  accountId: string;
  role: ApiKeyRole;
  /** Set when the caller is an access token: it may do only what its scope grants. */
  token?: TokenPrincipal;
}

export interface GeneratedApiKey {
  key: string;
  prefix: string;
  secretHash: Buffer;
}

export function generateApiKey(): GeneratedApiKey {
  const prefix = Array.from(randomBytes(10), (b) => BASE32[b & 31]).join('');
  const key = `hk_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, secretHash: hashApiKey(key) };
}

export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/** The public prefix of a well-formed key, or undefined for anything that cannot be a key. */
export function parseApiKeyPrefix(key: string): string | undefined {
  return KEY_PATTERN.exec(key)?.[1];
}

/** Constant-time check of a presented key against a stored hash. */
export function apiKeyMatches(key: string, storedHash: Uint8Array): boolean {
  const presented = hashApiKey(key);
  return presented.length === storedHash.length && timingSafeEqual(presented, storedHash);
}

/** Reads `Bearer <key>` (or a bare key, as some clients send in connectionParams). */
export function readBearerToken(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^\s*(?:Bearer\s+)?(\S+)\s*$/i.exec(header);
  return match?.[1];
}

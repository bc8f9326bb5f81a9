// Counter keys. Every key starts with the account, so tenants never share a counter (the same
// API key id or recipient under two accounts counts twice), and so one account's counters can
// be found with one SCAN pattern (`<prefix>:acct:<id>:*`). A window's length is part of its
// key: a policy change to another length opens a new window instead of inheriting an expiry
// it doesn't match.
import type { LimitCategory } from './policy.js';

// Ids come from outside; escaping keeps a ':' in one from forging another key's shape.
const part = (value: string) => encodeURIComponent(value);

export function requestKey(accountId: string, apiKeyId: string, pool: 'rate' | 'burst', perSeconds: number): string {
  return `acct:${part(accountId)}:req:${part(apiKeyId)}:${pool}:${perSeconds}s`;
}

/** `ALL` is the recipient's count over every category (`LimitPolicy.recipientTotal`). */
export function recipientKey(accountId: string, category: LimitCategory | 'ALL', perSeconds: number, recipient: string): string {
  return `acct:${part(accountId)}:rcpt:${category}:${perSeconds}s:${part(recipient)}`;
}

/** The sends of one access token (its `jti`), against the rate it was minted with. */
export function tokenSendKey(accountId: string, tokenId: string, perSeconds: number): string {
  return `acct:${part(accountId)}:token:${part(tokenId)}:send:${perSeconds}s`;
}

export function quotaKey(accountId: string, perSeconds: number): string {
  return `acct:${part(accountId)}:quota:${perSeconds}s`;
}

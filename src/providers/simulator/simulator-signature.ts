// How the simulator signs the webhooks it calls (status reports and inbound replies), the way
// real providers do (Stripe and Svix use the same scheme):
//
//   x-herald-timestamp: <unix seconds when the request was signed>
//   x-herald-signature: hex(HMAC-SHA256(secret, "<timestamp>.<raw body bytes>"))
//
// The timestamp is inside the signed bytes, so it cannot be changed without the secret; the
// receiver refuses timestamps outside a replay window. A replay inside the window is accepted
// and harmless: reports are idempotent (a duplicate is recorded and never moves a message).

import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-herald-signature';
export const TIMESTAMP_HEADER = 'x-herald-timestamp';
export const DEFAULT_REPLAY_WINDOW_SECONDS = 300;

const TIMESTAMP_PATTERN = /^\d{1,12}$/;
const SIGNATURE_PATTERN = /^[0-9a-f]{64}$/i;

/** Hex HMAC-SHA256 over `${timestampSeconds}.${rawBody}`. */
export function computeSignature(secret: string, timestampSeconds: number, rawBody: Buffer): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.`).update(rawBody).digest('hex');
}

/** The two headers to send with `rawBody`, signed at `now`. */
export function createSignatureHeaders(secret: string, rawBody: Buffer, now: Date): Record<string, string> {
  const timestampSeconds = Math.floor(now.getTime() / 1000);
  return {
    [TIMESTAMP_HEADER]: String(timestampSeconds),
    [SIGNATURE_HEADER]: computeSignature(secret, timestampSeconds, rawBody),
  };
}

export interface SignatureCheck {
  secret: string;
  /** Lower-case header names, as in `WebhookRequest.headers`. */
  headers: Record<string, string | undefined>;
  rawBody: Buffer;
  receivedAt: Date;
  replayWindowSeconds?: number;
}

/**
 * True when the signature matches and the timestamp is within the replay window of
 * `receivedAt`, in either direction (a clock ahead of ours is as suspect as one behind).
 */
export function verifySignature(check: SignatureCheck): boolean {
  const timestamp = check.headers[TIMESTAMP_HEADER]?.trim();
  const signature = check.headers[SIGNATURE_HEADER]?.trim();
  if (!timestamp || !signature || !TIMESTAMP_PATTERN.test(timestamp) || !SIGNATURE_PATTERN.test(signature)) return false;

  const timestampSeconds = Number(timestamp);
  const windowSeconds = check.replayWindowSeconds ?? DEFAULT_REPLAY_WINDOW_SECONDS;
  if (Math.abs(check.receivedAt.getTime() / 1000 - timestampSeconds) > windowSeconds) return false;

  const expected = Buffer.from(computeSignature(check.secret, timestampSeconds, check.rawBody), 'hex');
  // Both are 32 bytes here (the pattern fixed the length), as timingSafeEqual requires.
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}

// The small part of Twilio's REST API (2010-04-01) Herald uses: one HTTP call with Basic auth
// and a timeout, the shapes of its answers, and what a failed call tells us about whether the
// request reached Twilio. https://www.twilio.com/docs/messaging/api/message-resource

import { fetchErrorCode, isTimeout, NOT_SENT_CODES } from '../http-failure.js';
import { z } from 'zod';

export interface TwilioApiOptions {
  accountSid: string;
  authToken: string;
  apiBaseUrl: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** A Message resource, as far as Herald reads it. */
export const twilioMessageSchema = z.object({
  sid: z.string().min(1),
  status: z.string().min(1),
  to: z.string().nullish(),
  body: z.string().nullish(),
  direction: z.string().nullish(),
  date_created: z.string().nullish(),
  date_updated: z.string().nullish(),
  date_sent: z.string().nullish(),
  error_code: z.union([z.number(), z.string()]).nullish(),
  error_message: z.string().nullish(),
  // Read by twilio-price.ts, which judges their shape (a bad price must not hide the status).
  price: z.unknown().optional(),
  price_unit: z.unknown().optional(),
});
export type TwilioMessage = z.infer<typeof twilioMessageSchema>;

/** One page of `GET Messages.json`. */
export const twilioMessagePageSchema = z.object({
  messages: z.array(twilioMessageSchema),
  next_page_uri: z.string().nullish(),
});

/** Twilio's error answer: `{code, message, more_info, status}`. */
export const twilioErrorSchema = z.object({
  code: z.union([z.number(), z.string()]).nullish(),
  message: z.string().nullish(),
  more_info: z.string().nullish(),
  status: z.number().nullish(),
});

export type TwilioCallResult =
  | { kind: 'answer'; status: number; body: string; retryAfterMs?: number }
  | {
      kind: 'no-answer';
      /** `timeout`, or the socket error code (ECONNREFUSED, ECONNRESET, …). */
      reason: string;
      message: string;
      /** False only when the request certainly never reached Twilio (nothing was connected). */
      mayHaveReached: boolean;
    };


/** Calls `{apiBaseUrl}{path}`; every outcome is a value, nothing throws. */
export async function callTwilio(options: TwilioApiOptions, method: 'GET' | 'POST', path: string, form?: URLSearchParams): Promise<TwilioCallResult> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const authorization = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
  try {
    const response = await doFetch(`${options.apiBaseUrl}${path}`, {
      method,
      headers: {
        authorization,
        accept: 'application/json',
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form?.toString(),
      // Covers reading the body too: a stalled answer is still a timeout.
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    const body = await response.text();
    return { kind: 'answer', status: response.status, body, retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) };
  } catch (error) {
    return describeFailure(error);
  }
}

function describeFailure(error: unknown): TwilioCallResult {
  if (isTimeout(error)) return { kind: 'no-answer', reason: 'timeout', message: 'no answer from Twilio in time', mayHaveReached: true };
  const code = fetchErrorCode(error) ?? 'NETWORK_ERROR';
  const cause = error instanceof Error ? (error.cause as { message?: unknown } | undefined) : undefined;
  const detail = typeof cause?.message === 'string' ? cause.message : error instanceof Error ? error.message : String(error);
  // A reset or closed socket after connecting may have carried the whole request: unknown.
  return { kind: 'no-answer', reason: code, message: `Twilio unreachable: ${detail}`, mayHaveReached: !NOT_SENT_CODES.has(code) };
}

/** Retry-After in seconds or as an HTTP date, in milliseconds. */
function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** Parses a JSON answer against a schema; undefined when it is not that shape. */
export function parseJson<T>(schema: z.ZodType<T>, body: string): T | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The path of the account's Messages list. */
export function messagesPath(accountSid: string): string {
  return `/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`;
}

export function messagePath(accountSid: string, sid: string): string {
  return `/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages/${encodeURIComponent(sid)}.json`;
}

/** A failed read (lookup, status poll) as an Error for the caller, who then cannot tell. */
export function readFailure(what: string, result: TwilioCallResult): Error {
  if (result.kind === 'no-answer') return new Error(`twilio: ${what}: ${result.message}`);
  const error = parseJson(twilioErrorSchema, result.body);
  return new Error(`twilio: ${what}: HTTP ${result.status}${error?.code ? ` code ${error.code}` : ''}${error?.message ? ` (${error.message})` : ''}`);
}

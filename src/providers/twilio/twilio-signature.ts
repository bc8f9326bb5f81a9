// Twilio's webhook signature (X-Twilio-Signature): base64 HMAC-SHA1, keyed with the account's
// auth token, over the full URL Twilio called (query string included) followed by every POST
// parameter, sorted by name, as name + value with no separators. A repeated parameter's values
// are sorted and deduplicated, as the official SDKs do. There is no timestamp, so there is no
// replay window: a captured callback stays valid (it only repeats a report, which Herald
// records as a duplicate).
// https://www.twilio.com/docs/usage/webhooks/webhooks-security

import { createHmac, timingSafeEqual } from 'node:crypto';

export const TWILIO_SIGNATURE_HEADER = 'x-twilio-signature';

/** Form parameters by name, every value kept (a name may repeat). */
export type TwilioParams = Record<string, string | readonly string[]>;

/** Reads an `application/x-www-form-urlencoded` body into parameters, keeping repeated names. */
export function parseTwilioForm(rawBody: Buffer | string): Record<string, string[]> {
  const params: Record<string, string[]> = {};
  for (const [name, value] of new URLSearchParams(rawBody.toString('utf8'))) (params[name] ??= []).push(value);
  return params;
}

/** The signature Twilio sends for a POST of `params` to `url`. */
export function computeTwilioSignature(authToken: string, url: string, params: TwilioParams): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const value = params[name];
    const values = typeof value === 'string' ? [value] : [...new Set(value)].sort();
    for (const v of values) data += name + v;
  }
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/**
 * Whether `signature` is Twilio's for this request. The URL is taken as called, byte for byte
 * (re-encoding it would change what was signed); the only variation tried is the default port,
 * present or absent, because Twilio has signed both forms behind load balancers.
 */
export function verifyTwilioSignature(authToken: string, url: string, params: TwilioParams, signature: string | undefined): boolean {
  if (!signature) return false;
  const given = Buffer.from(signature);
  return portVariants(url).some((candidate) => {
    const expected = Buffer.from(computeTwilioSignature(authToken, candidate, params));
    // The length is fixed by the algorithm, so checking it first leaks nothing secret.
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}

/** The URL as given, then with its default port removed or added. */
function portVariants(url: string): string[] {
  const match = /^(https?):\/\/([^/?#]*)(.*)$/i.exec(url);
  if (!match) return [url];
  const [, scheme, authority, rest] = match;
  const defaultPort = scheme.toLowerCase() === 'https' ? '443' : '80';
  const at = authority.lastIndexOf('@') + 1;
  const hostPort = authority.slice(at);
  const colon = hostPort.indexOf(':', hostPort.lastIndexOf(']') + 1);
  const host = colon === -1 ? hostPort : hostPort.slice(0, colon);
  const port = colon === -1 ? '' : hostPort.slice(colon + 1);
  const base = `${scheme}://${authority.slice(0, at)}${host}`;
  if (port === '') return [url, `${base}:${defaultPort}${rest}`];
  if (port === defaultPort) return [url, `${base}${rest}`];
  return [url];
}

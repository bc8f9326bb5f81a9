// The last line of defence for logs: whatever object or message a log call was given, the
// line written never carries an API key, a bearer token, a password in a URL or a configured
// provider secret. pino's path redaction covers known fields; this covers free text (error
// messages and stacks, URLs, SQL) where a secret can turn up anywhere.
import type { Config } from '../config/config.js';
import { maskPhoneNumber } from '../domain/phone-mask.js';

const API_KEY = /\bhk_([a-z2-7]{10})_[A-Za-z0-9_-]{43}/g;
const BEARER = /\b(Bearer\s+)[^\s"'\\,;]+/gi;
// An access token (a JWT) given without "Bearer" (graphql-ws connectionParams may): its header
// and claims stay readable, the signature that makes it a credential goes.
const ACCESS_TOKEN = /\b(eyJ[\w-]*\.[\w-]+)\.[\w-]+/g;
// scheme://user:password@host — SMPP_URL, DATABASE_URL, REDIS_URL.
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^:@/\s"]*:)[^@/\s"]+@/gi;

// A phone number in free text: a `+`, then digits that may be grouped by spaces, dashes, dots or
// parentheses (+86 138-0013-8000, +1 (415) 555-0100), 8 to 15 digits in all. A bare run of
// digits is not taken for one (timestamps and counts are), except as the value of a field
// whose name says it is a number (PHONE_FIELD: providers write national forms without `+`).
const PHONE = /\+\d(?:[ ().-]{0,2}\d){7,14}/g;
const PHONE_FIELD = /("(?:to|from|phone|phoneNumber|recipient|sender|msisdn|number|source_addr|destination_addr)":")([^"]*\d{6,}[^"]*)"/gi;

export type SecretSources = Partial<Pick<Config, 'twilio' | 'aliyun' | 'tencent' | 'smpp' | 'databaseUrl' | 'redisUrl'>>;

/** The configured secrets, as given and as they appear inside a JSON string. */
export function configuredSecrets(config: SecretSources): string[] {
  const values = [
    config.twilio?.authToken,
    config.aliyun?.accessKeySecret,
    config.aliyun?.callbackToken,
    config.tencent?.secretKey,
    config.tencent?.callbackToken,
    ...[config.smpp?.url, config.databaseUrl, config.redisUrl].map(urlPassword),
  ].filter((v): v is string => typeof v === 'string' && v.length >= 4);
  return [...new Set(values.flatMap((v) => [v, JSON.stringify(v).slice(1, -1), encodeURIComponent(v)]))].sort((a, b) => b.length - a.length);
}

function urlPassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return /^[a-z]+:\/\/[^:@/]+:([^@/]+)@/i.exec(url)?.[1];
  }
}

/**
 * A function that takes a written log line and returns it without secrets and, with
 * `maskPhoneNumbers`, with every phone number masked (domain/phone-mask.ts).
 */
export function createScrubber(secrets: readonly string[], options: { maskPhoneNumbers?: boolean } = {}): (line: string) => string {
  return (line) => {
    let out = line.replace(API_KEY, 'hk_$1_[redacted]').replace(BEARER, '$1[redacted]').replace(ACCESS_TOKEN, '$1.[redacted]').replace(URL_PASSWORD, '$1[redacted]@');
    for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join('[redacted]');
    if (options.maskPhoneNumbers) out = maskPhoneNumbersIn(out);
    return out;
  };
}

/** Every phone number in a log line, masked; the line is otherwise unchanged. */
export function maskPhoneNumbersIn(line: string): string {
  return line.replace(PHONE_FIELD, (_m, key: string, value: string) => `${key}${maskPhoneNumber(value)}"`).replace(PHONE, (n) => maskPhoneNumber(n));
}

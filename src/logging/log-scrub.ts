// The last line of defence for logs: whatever object or message a log call was given, the
// line written never carries an API key, a bearer token, a password in a URL or a configured
// provider secret. pino's path redaction covers known fields; this covers free text (error
// messages and stacks, URLs, SQL) where a secret can turn up anywhere.
import type { Config } from '../config/config.js';

const API_KEY = /\bhk_([a-z2-7]{10})_[A-Za-z0-9_-]{43}/g;
const BEARER = /\b(Bearer\s+)[^\s"'\\,;]+/gi;
// An access token (a JWT) given without "Bearer" (graphql-ws connectionParams may): its header
// and claims stay readable, the signature that makes it a credential goes.
const ACCESS_TOKEN = /\b(eyJ[\w-]*\.[\w-]+)\.[\w-]+/g;
// scheme://user:password@host — SMPP_URL, DATABASE_URL, REDIS_URL.
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^:@/\s"]*:)[^@/\s"]+@/gi;

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

/** A function that takes a written log line and returns it without secrets. */
export function createScrubber(secrets: readonly string[]): (line: string) => string {
  return (line) => {
    let out = line.replace(API_KEY, 'hk_$1_[redacted]').replace(BEARER, '$1[redacted]').replace(ACCESS_TOKEN, '$1.[redacted]').replace(URL_PASSWORD, '$1[redacted]@');
    for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join('[redacted]');
    return out;
  };
}

// One delivery attempt: a POST to the endpoint over node:http(s), connecting only to addresses
// the SSRF guard allows (address-guard.ts). node:http never follows redirects: a 3xx answer is a
// failed attempt like any other non-2xx, so a receiver cannot bounce Herald to a private URL.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { guardedLookup, ipLiteral, isPublicAddress, PrivateAddressError, type ResolveHost } from './address-guard.js';

export interface PostOptions {
  /** How long the attempt may take, answer included. */
  timeoutMs: number;
  /** WEBHOOK_ALLOW_PRIVATE_URLS: receivers on loopback and private networks are allowed. */
  allowPrivateUrls: boolean;
  /** Name resolution (tests inject one); the system resolver by default. */
  resolve?: ResolveHost;
}

export interface AttemptResult {
  /** The HTTP status; null when no answer came. */
  statusCode: number | null;
  /** Null on success (a 2xx). */
  error: string | null;
  durationMs: number;
}

/** How much of a receiver's error answer is kept in the log. */
const ERROR_TEXT_MAX = 300;

export async function postWebhook(url: string, headers: Record<string, string>, body: string, options: PostOptions): Promise<AttemptResult> {
  const started = performance.now();
  const result = (statusCode: number | null, error: string | null): AttemptResult => ({
    statusCode,
    error: error?.slice(0, ERROR_TEXT_MAX) ?? null,
    durationMs: Math.round(performance.now() - started),
  });
  const target = new URL(url);
  // An IP address in the URL is connected to without a lookup: judged here instead.
  const literal = ipLiteral(target.hostname);
  if (literal && !options.allowPrivateUrls && !isPublicAddress(literal)) return result(null, new PrivateAddressError(literal).message);
  const signal = AbortSignal.timeout(options.timeoutMs);
  try {
    const answer = await send(target, headers, body, { signal, lookup: guardedLookup(options) });
    // Standard Webhooks: any 2xx is a success; everything else (redirects included) is retried.
    const ok = answer.statusCode >= 200 && answer.statusCode < 300;
    return result(answer.statusCode, ok ? null : `HTTP ${answer.statusCode}${answer.text ? `: ${answer.text}` : ''}`);
  } catch (error) {
    if (signal.aborted) return result(null, `timed out after ${options.timeoutMs} ms`);
    return result(null, error instanceof Error ? error.message : String(error));
  }
}

function send(
  target: URL,
  headers: Record<string, string>,
  body: string,
  options: { signal: AbortSignal; lookup: ReturnType<typeof guardedLookup> },
): Promise<{ statusCode: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = (target.protocol === 'https:' ? httpsRequest : httpRequest)(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Herald-Webhooks/1' },
        // A connection of its own per attempt: every attempt's address goes through the guard,
        // and no pooled socket outlives a change of the name's address.
        agent: false,
        lookup: options.lookup,
        signal: options.signal,
      },
      (response) => void readAnswer(response).then(resolve, reject),
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** The status and, for a failure, the start of the answer's text; the rest is never read. */
async function readAnswer(response: IncomingMessage): Promise<{ statusCode: number; text: string }> {
  const statusCode = response.statusCode ?? 0;
  if (statusCode >= 200 && statusCode < 300) {
    response.destroy();
    return { statusCode, text: '' };
  }
  response.setEncoding('utf8');
  let text = '';
  try {
    for await (const chunk of response) {
      text += chunk as string;
      if (text.length >= ERROR_TEXT_MAX) break;
    }
  } catch {
    // The answer broke off: its status is what counts.
  }
  response.destroy();
  return { statusCode, text };
}

// One signed RPC call to dysmsapi, with every way it can end as a value: Aliyun's JSON answer
// (any HTTP status), an HTTP error without one, or a transport failure classified by whether
// the request may have reached Aliyun.

import { signRpcRequest, type RpcCredentials } from './aliyun-signature.js';
import { rpcAnswerSchema } from './aliyun-payload.js';
import type { ProviderErrorCode } from './types.js';

export type RpcOutcome =
  | {
      kind: 'answer';
      httpStatus: number;
      /** The parsed JSON body; `Code` is "OK" on success. */
      body: Record<string, unknown> & { Code: string; Message?: string; RequestId?: string };
      retryAfterMs?: number;
    }
  | {
      /** No usable answer: a non-JSON error page, a broken body, or no answer at all. */
      kind: 'failure';
      errorCode: Extract<ProviderErrorCode, 'TIMEOUT' | 'THROTTLED' | 'PROVIDER_ERROR'>;
      rawCode: string;
      message: string;
      retryAfterMs?: number;
      /** The request may have reached Aliyun and only the answer was lost. */
      maybeAccepted: boolean;
    };

// Errors that happen before a request can be on the wire (no connection, no TLS session).
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ERR_INVALID_URL',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export interface RpcClientOptions extends RpcCredentials {
  endpoint: string;
  timeoutMs: number;
  now?: () => Date;
}

export async function callAliyun(options: RpcClientOptions, action: string, params: Record<string, string>): Promise<RpcOutcome> {
  // POST keeps TemplateParam (verification codes) out of URLs and access logs.
  const { body } = signRpcRequest(options, action, params, { method: 'POST', now: options.now?.() });
  let response: Response;
  let text: string;
  try {
    response = await fetch(`${options.endpoint.replace(/\/+$/, '')}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', accept: 'application/json' },
      body,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    text = await response.text();
  } catch (error) {
    return transportFailure(error, options.timeoutMs);
  }

  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = rpcAnswerSchema.safeParse(json);
  if (parsed.success) {
    return { kind: 'answer', httpStatus: response.status, body: parsed.data, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  }
  const withRetry = retryAfterMs === undefined ? {} : { retryAfterMs };
  if (response.status === 429) {
    return { kind: 'failure', errorCode: 'THROTTLED', rawCode: 'HTTP 429', message: 'Aliyun answered 429', maybeAccepted: false, ...withRetry };
  }
  if (!response.ok) {
    return { kind: 'failure', errorCode: 'PROVIDER_ERROR', rawCode: `HTTP ${response.status}`, message: `Aliyun answered HTTP ${response.status} without an error code`, maybeAccepted: false, ...withRetry };
  }
  // A 2xx we cannot read: Aliyun may well have taken the message.
  return { kind: 'failure', errorCode: 'PROVIDER_ERROR', rawCode: 'MALFORMED_ANSWER', message: `Aliyun answered HTTP ${response.status} with an unreadable body`, maybeAccepted: true };
}

function transportFailure(error: unknown, timeoutMs: number): RpcOutcome {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return { kind: 'failure', errorCode: 'TIMEOUT', rawCode: 'timeout', message: `no answer from Aliyun within ${timeoutMs} ms`, maybeAccepted: true };
  }
  const code = errorCode(error);
  const message = `Aliyun unreachable: ${code ?? (error instanceof Error ? error.message : String(error))}`;
  // A reset or a closed socket may come after the request was written: assume it may have landed.
  return { kind: 'failure', errorCode: 'PROVIDER_ERROR', rawCode: code ?? 'network', message, maybeAccepted: !(code && NOT_SENT_CODES.has(code)) };
}

/** undici wraps the socket error: `TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } })`. */
function errorCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

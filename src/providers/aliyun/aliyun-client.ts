// One signed RPC call to dysmsapi, with every way it can end as a value: Aliyun's JSON answer
// (any HTTP status), an HTTP error without one, or a transport failure classified by whether
// the request may have reached Aliyun.

import { fetchFailure } from '../http-failure.js';
import { signRpcRequest, type RpcCredentials } from './aliyun-signature.js';
import { rpcAnswerSchema } from './aliyun-payload.js';
import type { ProviderErrorCode } from '../types.js';

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
  const { errorCode, rawCode, message, maybeAccepted } = fetchFailure('Aliyun', error, timeoutMs);
  return { kind: 'failure', errorCode: errorCode === 'TIMEOUT' ? 'TIMEOUT' : 'PROVIDER_ERROR', rawCode: rawCode ?? 'network', message, maybeAccepted: maybeAccepted === true };
}

function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

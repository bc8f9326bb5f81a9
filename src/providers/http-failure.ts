// How a failed call to a provider's HTTP API is classified, the same for every HTTP adapter:
// a timeout or a connection dropped mid-exchange may have delivered the request (the provider
// may have taken the message: `maybeAccepted`); a failure before any connection existed
// certainly did not, so the message may go to another provider at once.
import type { SendResult } from './types.js';

type Retryable = Extract<SendResult, { kind: 'retryable' }>;

/** System error codes of failures that happen before a request byte can be on the wire. */
export const NOT_SENT_CODES: ReadonlySet<string> = new Set([
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

/** The system error code of a fetch failure (undici wraps it, sometimes twice, in `cause`). */
export function fetchErrorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 4; depth++) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (typeof code === 'string') return code;
    current = cause;
  }
  return undefined;
}

export function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

/** A thrown fetch (no HTTP answer at all) as a retryable SendResult. */
export function fetchFailure(vendor: string, error: unknown, timeoutMs: number): Retryable {
  if (isTimeout(error)) {
    return { kind: 'retryable', errorCode: 'TIMEOUT', rawCode: 'timeout', message: `no answer from ${vendor} within ${timeoutMs} ms`, maybeAccepted: true };
  }
  const code = fetchErrorCode(error);
  const message = `${vendor} unreachable: ${code ?? (error instanceof Error ? error.message : String(error))}`;
  if (code && NOT_SENT_CODES.has(code)) return { kind: 'retryable', errorCode: 'PROVIDER_ERROR', rawCode: code, message };
  // A reset or a socket closed mid-answer: the request may have been read and acted on.
  return { kind: 'retryable', errorCode: 'PROVIDER_ERROR', rawCode: code ?? 'network', message, maybeAccepted: true };
}

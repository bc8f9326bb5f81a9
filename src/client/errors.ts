/**
 * A failure reported by the API. `code` is the API's stable code: an `ErrorCode` such as
 * `INVALID_PHONE_NUMBER` for expected failures, or `extensions.code` (e.g. `UNAUTHENTICATED`)
 * for request-level errors. `details` holds the error type's extra fields (issues, input, …).
 */
export class HeraldApiError extends Error {
  override name = 'HeraldApiError';
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly status?: number,
  ) {
    super(message);
  }
}

/** GraphQL errors (a response's `errors`, or a subscription's error message) as one HeraldApiError. */
export function fromGraphQLErrors(errors: readonly { message: string; extensions?: { code?: unknown } }[], status?: number): HeraldApiError {
  const [first] = errors;
  const code = typeof first?.extensions?.code === 'string' ? first.extensions.code : 'INTERNAL_SERVER_ERROR';
  return new HeraldApiError(code, first?.message ?? 'unknown error', { errors }, status);
}

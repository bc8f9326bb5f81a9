// Whether an error means "the database cannot be reached right now" (restarting, refusing
// connections, a connection cut), as opposed to a bug or a bad query. Such a failure is worth
// retrying, and the client should be told so: src/http/yoga.ts answers it as SERVICE_UNAVAILABLE
// (HTTP 503, Retry-After) instead of the masked "Unexpected error.".
//
// The shapes are the ones met in practice (the chaos suite's database-restart scenario):
// - Prisma's error whose meta.driverAdapterError.cause is the adapter's classification:
//   { kind: 'DatabaseNotReachable' | 'ConnectionClosed' | 'SocketTimeout' | 'TooManyConnections' }
//   or { kind: 'postgres', code: '57P01' } (SQLSTATE of a server shutting down or starting);
// - pg's own errors where the adapter rethrows them: a socket error code (ECONNREFUSED, …),
//   a SQLSTATE, or "Connection terminated unexpectedly" (no code at all);
// - Prisma's connection error codes P1001 (cannot reach), P1002 (timed out), P1017 (closed).

const UNREACHABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH']);
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1017']);
/** SQLSTATE classes 08 (connection exception) and 57P (operator intervention: shutdown, starting up); 53300 too many connections. */
const unavailableSqlState = (code: string) => /^08[0-9A-Z]{3}$/.test(code) || /^57P0[1-4]$/.test(code) || code === '53300';
const CONNECTION_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection closed)/i;

type Loose = { code?: unknown; kind?: unknown; message?: unknown; cause?: unknown; meta?: { driverAdapterError?: unknown }; originalError?: unknown };

export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const current = queue.shift();
    if (!current || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    const e = current as Loose;
    const code = typeof e.code === 'string' ? e.code : undefined;
    if (typeof e.kind === 'string') {
      if (UNREACHABLE_KINDS.has(e.kind)) return true;
      if (e.kind === 'postgres' && code && unavailableSqlState(code)) return true;
    } else if (code && (SOCKET_CODES.has(code) || PRISMA_CODES.has(code) || unavailableSqlState(code))) {
      return true;
    }
    if (typeof e.message === 'string' && CONNECTION_MESSAGES.test(e.message)) return true;
    queue.push(e.cause, e.meta?.driverAdapterError, e.originalError);
  }
  return false;
}

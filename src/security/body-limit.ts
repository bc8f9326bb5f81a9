// Request bodies larger than the limit are refused with 413 without being buffered.
import type { IncomingMessage, ServerResponse } from 'node:http';

export type BodyCheck =
  /** The body may be read by whoever handles the request (its declared length is within the limit). */
  | { kind: 'stream' }
  /** A body without a declared length, read here up to the limit. */
  | { kind: 'buffered'; body: Buffer }
  | { kind: 'too-large' };

/**
 * A declared Content-Length over the limit is refused before reading. Any other body is read
 * here, counted as it arrives and buffered only up to the limit: whoever handles the request gets
 * it whole (GraphQL parses it whole anyway), which costs less than handing on a stream that is
 * counted again on its way (docs/benchmarks.md).
 */
export async function checkBodySize(req: IncomingMessage, limit: number): Promise<BodyCheck> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    discardRest(req, limit);
    return { kind: 'too-large' };
  }
  if (declared === undefined && (req.method === 'GET' || req.method === 'HEAD')) return { kind: 'stream' };
  const body = await readBoundedBody(req, limit);
  return body ? { kind: 'buffered', body } : { kind: 'too-large' };
}

/**
 * The body, or undefined when it is larger than `limit` (refused before reading when its
 * declared length says so; otherwise buffering stops at the limit).
 */
export function readBoundedBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? 0) > limit) {
      discardRest(req, limit);
      return resolve(undefined);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        chunks.length = 0;
        discardRest(req, limit);
        resolve(undefined);
      } else chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Reads and drops the rest of a refused body. Destroying the request at once would reset the
 * connection and the client would see ECONNRESET instead of the 413 (unread bytes make the
 * kernel send RST). A body that goes on far past the limit is cut off all the same.
 */
function discardRest(req: IncomingMessage, limit: number): void {
  let dropped = 0;
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > 8 * limit) req.destroy();
  });
  req.resume();
}

/** 413 in the shape of a GraphQL error response, so GraphQL clients can read it. */
export function sendPayloadTooLarge(res: ServerResponse, limit: number): void {
  res.writeHead(413, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ errors: [{ message: `the request body is larger than ${limit} bytes`, extensions: { code: 'PAYLOAD_TOO_LARGE', limit } }] }));
}

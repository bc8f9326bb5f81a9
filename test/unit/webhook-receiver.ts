// A tiny HTTP server standing in for Herald's webhook routes: it records every POST as the
// `WebhookRequest` the real route would build, and answers with scripted status codes.

import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookRequest } from '../../src/providers/types.js';

export interface WebhookReceiver {
  /** Base URL, `http://127.0.0.1:<port>`: give it to a provider as its public URL. */
  url: string;
  /** Every request so far, oldest first. */
  received: WebhookRequest[];
  /** Resolves with the next request not yet taken by `next()`, waiting for it if needed. */
  next(timeoutMs?: number): Promise<WebhookRequest>;
  /** Status codes for the coming requests, in order; 200 once they run out. */
  respondWith(...statuses: number[]): void;
  close(): Promise<void>;
}

function toWebhookRequest(request: IncomingMessage, rawBody: Buffer, baseUrl: string): WebhookRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const url = new URL(request.url ?? '/', baseUrl);
  return { path: url.pathname, headers, rawBody, url: url.href, receivedAt: new Date() };
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: WebhookRequest[] = [];
  const scripted: number[] = [];
  const waiters: Array<() => void> = [];
  let taken = 0;
  let baseUrl = '';

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push(toWebhookRequest(request, Buffer.concat(chunks), baseUrl));
      response.writeHead(scripted.shift() ?? 200).end();
      for (const wake of waiters.splice(0)) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const next = async (timeoutMs = 5000): Promise<WebhookRequest> => {
    const deadline = Date.now() + timeoutMs;
    while (taken >= received.length) {
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) throw new Error(`no webhook request within ${timeoutMs} ms (received ${received.length})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remainingMs);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return received[taken++];
  };

  return {
    url: baseUrl,
    received,
    next,
    respondWith: (...statuses) => scripted.push(...statuses),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

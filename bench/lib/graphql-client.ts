// The bench's GraphQL client side of a Herald run: sendMessage over keep-alive HTTP, and one
// graphql-ws subscriber that records when each message's DELIVERED event arrived. Both live in
// the bench process, never in Herald's.
import http from 'node:http';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const SEND_QUERY = 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { __typename ... on SendMessageSuccess { data { id } } ... on Error { message } } }';

/** The body of bench message i: an OTP-like text, different for each message. */
export const benchMessageBody = (i: number) => `Your code is ${String(100_000 + (((i % 900_000) + 900_000) % 900_000))}. Bench message ${i}.`;

/** One sendMessage over keep-alive HTTP to `graphqlUrl`; the new message's id, or why not. */
export async function sendMessage(agent: http.Agent, graphqlUrl: string, key: string, body: string): Promise<{ id: string } | { error: string }> {
  const answer = await postJson(agent, graphqlUrl, { authorization: `Bearer ${key}` }, JSON.stringify({ query: SEND_QUERY, variables: { input: { to: '+14155550100', body } } }));
  if ('error' in answer) return answer;
  const result = (answer.json as { data?: { sendMessage?: { __typename: string; data?: { id: string }; message?: string } } } | undefined)?.data?.sendMessage;
  if (result?.data?.id) return { id: result.data.id };
  return { error: result ? `${result.__typename}: ${result.message ?? ''}` : `HTTP ${answer.status}: ${answer.text.slice(0, 200)}` };
}

/** A JSON POST over keep-alive HTTP: the status, the raw text and its parse (undefined when not JSON), or the network error. */
export function postJson(agent: http.Agent, url: string, headers: Record<string, string>, payload: string): Promise<{ status: number; text: string; json: unknown } | { error: string }> {
  return new Promise((resolve) => {
    const request = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: response.statusCode ?? 0, text, json });
        });
        response.on('error', (error) => resolve({ error: error.message }));
      },
    );
    request.on('error', (error) => resolve({ error: error.message }));
    request.end(payload);
  });
}

export interface DeliveredSubscriber {
  /** performance.now() at which each message's first DELIVERED event arrived, by message id. */
  deliveredAt: Map<string, number>;
  /** Called after each new DELIVERED event (one listener; set it to () => {} to stop). */
  onDelivered: (id: string) => void;
  /** The first error the subscription reported, if any. */
  error(): string | undefined;
  /** Resolves true once `predicate` holds, false after `timeoutMs` (one wait at a time). */
  waitFor(predicate: () => boolean, timeoutMs: number): Promise<boolean>;
  dispose(): Promise<void>;
}

/** `messageEvents(filter: {status: [DELIVERED]}) { id }` over graphql-ws, as a dashboard would follow. */
export function subscribeDelivered(graphqlUrl: string, key: string): DeliveredSubscriber {
  const deliveredAt = new Map<string, number>();
  let subscriptionError: string | undefined;
  let waiter: (() => void) | undefined;
  const client = createClient({ url: graphqlUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${key}` }, retryAttempts: 0 });
  const subscriber: DeliveredSubscriber = {
    deliveredAt,
    onDelivered: () => {},
    error: () => subscriptionError,
    waitFor: (predicate, timeoutMs) =>
      new Promise<boolean>((resolve) => {
        if (predicate()) return resolve(true);
        // Checked after each event and every 100 ms (the predicate may also hang on the senders).
        const poll = setInterval(() => waiter?.(), 100);
        const timer = setTimeout(() => finish(false), Math.max(0, timeoutMs));
        const finish = (ok: boolean) => {
          clearTimeout(timer);
          clearInterval(poll);
          waiter = undefined;
          resolve(ok);
        };
        waiter = () => {
          if (predicate()) finish(true);
        };
      }),
    dispose: () => Promise.resolve(client.dispose()).catch(() => {}),
  };
  client.subscribe<{ messageEvents: { id: string } }>(
    { query: 'subscription { messageEvents(filter: { status: [DELIVERED] }) { id } }' },
    {
      next: ({ data, errors }) => {
        if (errors?.length) subscriptionError ??= errors[0]!.message;
        const id = data?.messageEvents.id;
        if (!id || deliveredAt.has(id)) return;
        deliveredAt.set(id, performance.now());
        subscriber.onDelivered(id);
        waiter?.();
      },
      error: (error) => {
        subscriptionError ??= error instanceof Error ? error.message : JSON.stringify(error);
      },
      complete: () => {
        subscriptionError ??= 'the server ended the subscription';
      },
    },
  );
  return subscriber;
}

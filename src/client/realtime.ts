// Subscriptions over graphql-ws for SMSClient (watch, events, inbound). One lazy socket per
// client: opened by the first subscription, closed when the last one ends. A dropped socket is
// reopened (with backoff) and graphql-ws subscribes the running operations again on the new one;
// messageStatusChanged then starts with the message's current state, which is how watch()
// resumes without losing a transition (see SMSClient.watch).
import { createClient, type Client } from 'graphql-ws';
import { fromGraphQLErrors, HeraldApiError } from './errors.js';
import type { TypedDocumentString } from './generated/graphql.js';

export interface RealtimeOptions {
  /** The GraphQL HTTP endpoint; the socket's is the same with ws(s):. */
  url: string;
  bearer: string;
  /** A WebSocket class (browsers and Node ≥ 22 have one; else the `ws` package is loaded). */
  webSocketImpl?: unknown;
  /** Reconnection attempts in a row before a subscription fails (default 10). */
  retryAttempts?: number;
}

/** graphql-ws close codes the server uses for credentials (graphql-ws's CloseCode). */
const CLOSE_REASONS: Record<number, string> = { 4401: 'UNAUTHENTICATED', 4403: 'FORBIDDEN' };

/** http(s)://host/graphql → ws(s)://host/graphql. */
export function webSocketUrl(httpUrl: string): string {
  return httpUrl.replace(/^http(s?):/i, 'ws$1:');
}

async function webSocketClass(given: unknown): Promise<unknown> {
  if (given) return given;
  const global = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (global) return global;
  // Node 20 has no global WebSocket. Loaded only then; the browser build (which always has a
  // global one) replaces `ws` with an empty module (scripts/build-client.mjs).
  const module = (await import('ws')) as { default: unknown };
  return module.default;
}

/** Backoff between reconnections: 0.25–0.5 s, doubling, at most 30 s. */
async function retryWait(retries: number): Promise<void> {
  const base = Math.min(250 * 2 ** retries, 30_000);
  await new Promise((resolve) => setTimeout(resolve, base + Math.random() * base));
}

const isCloseEvent = (value: unknown): value is { code: number; reason: string } =>
  typeof value === 'object' && value !== null && 'code' in value && typeof (value as { code: unknown }).code === 'number';

/** What a subscription failed with, as the SDK's one error type. */
function toApiError(error: unknown): HeraldApiError {
  if (error instanceof HeraldApiError) return error;
  if (Array.isArray(error)) return fromGraphQLErrors(error);
  if (isCloseEvent(error)) {
    return new HeraldApiError(CLOSE_REASONS[error.code] ?? 'CONNECTION_CLOSED', error.reason || `socket closed (${error.code})`, { closeCode: error.code });
  }
  return new HeraldApiError('CONNECTION_FAILED', error instanceof Error ? error.message : String(error), { cause: error });
}

/**
 * How a subscription catches up after a reconnection (events(), inbound()): `missed()` reads
 * what happened while the socket was down; `fresh(item)` is false for an item already yielded.
 */
export interface Resume<T> {
  missed(): Promise<T[]>;
  fresh(item: T): boolean;
}

/**
 * How long after a reconnection the catch-up read waits, so that it runs after the server has
 * made the subscription again (a transition between the two would otherwise fall in neither).
 * Live items that arrive meanwhile wait for it, and are yielded after it.
 */
const SETTLE_MS = 300;

export class Realtime {
  #client: Promise<Client> | undefined;
  constructor(private readonly options: RealtimeOptions) {}

  #connect(): Promise<Client> {
    this.#client ??= webSocketClass(this.options.webSocketImpl).then((impl) =>
      createClient({
        url: webSocketUrl(this.options.url),
        webSocketImpl: impl,
        connectionParams: { authorization: `Bearer ${this.options.bearer}` },
        retryAttempts: this.options.retryAttempts ?? 10,
        retryWait,
        // Every drop is retried (a refused connection too), except a revoked key's close
        // (FORBIDDEN): it will not be granted again. Expired tokens (4401) are never retried.
        shouldRetry: (event) => !(isCloseEvent(event) && event.code === 4403),
      }),
    );
    return this.#client;
  }

  /**
   * The operation's results, one `data` at a time; a GraphQL or socket error rejects with
   * HeraldApiError. With `resume`, after each reconnection what `resume.missed()` finds is
   * yielded before any later live result, and every result `resume.fresh` refuses is skipped.
   */
  async *subscribe<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables, resume?: Resume<TResult>): AsyncGenerator<TResult> {
    const client = await this.#connect();
    // Catch-ups in the order of the reconnections; `wake` interrupts a wait for a live result.
    const gaps: Promise<TResult[]>[] = [];
    let wake = () => {};
    const stopListening = resume
      ? client.on('connected', (_socket, _payload, wasRetry) => {
          if (!wasRetry) return;
          const gap = new Promise((resolve) => setTimeout(resolve, SETTLE_MS)).then(() => resume.missed());
          gap.catch(() => {}); // rejected while unobserved: observed (and thrown) when its turn comes
          gaps.push(gap);
          wake();
        })
      : () => {};
    const results = client.iterate<TResult>({ query: document.toString(), variables: variables as Record<string, unknown> });
    type Next = IteratorResult<{ data?: TResult | null; errors?: readonly { message: string; extensions?: { code?: unknown } }[] }>;
    /** The catch-ups waiting, in order, without the items already yielded. */
    async function* caughtUp(): AsyncGenerator<TResult> {
      while (gaps.length) {
        const missed = await gaps[0]!.catch((error: unknown) => {
          throw toApiError(error);
        });
        gaps.shift();
        for (const item of missed) if (resume!.fresh(item)) yield item;
      }
    }
    let pending: Promise<Next> | undefined;
    try {
      for (;;) {
        yield* caughtUp();
        pending ??= results.next();
        const woken = new Promise<'woken'>((resolve) => (wake = () => resolve('woken')));
        let next: Next | 'woken';
        try {
          next = await Promise.race([pending, woken]);
        } catch (error) {
          throw toApiError(error);
        }
        if (next === 'woken') continue; // the live result awaited stays `pending`
        pending = undefined;
        if (next.done) return;
        if (next.value.errors?.length) throw fromGraphQLErrors(next.value.errors);
        const data = next.value.data;
        if (!data) continue;
        // A result that arrived with a catch-up waiting goes after it (if it was in it, it is skipped).
        yield* caughtUp();
        if (!resume || resume.fresh(data)) yield data;
      }
    } finally {
      stopListening();
      // Breaking out of a for-await ends the operation on the server (graphql-ws `complete`);
      // graphql-ws's iterator ends at once even while a next() is pending.
      await results.return?.();
    }
  }

  /** Closes the socket (running subscriptions end). */
  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (client) await (await client).dispose();
  }
}
